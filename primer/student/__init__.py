"""What a student runs: open the course in JupyterLab, check a notebook before handing it in."""
