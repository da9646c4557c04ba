"""The core layer: model spec, parameters, time grid, scenarios, policies, display choices, run folders, errors."""
