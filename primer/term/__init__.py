"""What an instructor runs for a whole term: one nbgrader course folder (term-init), collect, autograde into its gradebook, formgrader, feedback, late policy, export, report and similarity."""
