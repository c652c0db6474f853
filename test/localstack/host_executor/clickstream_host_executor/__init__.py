"""Runs LocalStack's Lambda functions (Node.js runtimes) as host processes, without Docker."""
