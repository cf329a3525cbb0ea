"""What an author runs: generate the release, execute notebooks, the wrong-answer corpus, answer hashes."""
