"""Where patternbot meets workflow tools: the learning-suggestions stage, MCP, dot-ai records."""
