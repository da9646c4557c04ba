"""Developer tools: laying out the .mdl sketch."""
