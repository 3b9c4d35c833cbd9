// Hooks module
