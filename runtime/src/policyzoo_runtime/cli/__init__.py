"""The runtime commands of `policyzoo`, added through `policyzoo_runtime.commands`."""
