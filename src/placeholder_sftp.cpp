// Placeholder until the module lands; keeps the build whole.
