"""What a class beyond one laptop runs: a real JupyterHub with nbgrader's exchange, locally and on Kubernetes."""
