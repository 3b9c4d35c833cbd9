// Webhooks module
