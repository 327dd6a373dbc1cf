"""Coverage-guided fuzzing of headerkit's decoders (atheris)."""
