# nbgrader's configuration for every single-user server of the class (copied to
# /etc/jupyter/nbgrader_config.py by deploy/image/Dockerfile). The exchange is the shared
# volume that deploy/helm/values.yaml mounts in every pod; the course id is the one the
# instructor's course folder uses (primer/hub/course.py uses the same two settings).
c = get_config()  # noqa: F821
c.Exchange.root = "/srv/nbgrader/exchange"
c.CourseDirectory.course_id = "dl_primer"
