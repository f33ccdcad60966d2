"""`python -m llmtelemetry` runs the llmtel command."""

from llmtelemetry.cli import run

if __name__ == "__main__":
    run()
