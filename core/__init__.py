"""The shared base every app builds on: the error shape, pagination, model_update, admin mixins,
the task retry policy and the one real-time event path. Imports no app and no config."""
