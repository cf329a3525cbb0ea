"""What an instructor runs: grade submissions with nbgrader in boxed kernels, with a reason for every lost point."""
