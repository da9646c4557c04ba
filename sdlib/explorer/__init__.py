"""The policy explorer (`tokenworld serve`): a local web page with a slider for every lever and key
uncertainty, redrawn as you drag. Needs the `[explorer]` extra (Flask)."""
