"""The experiment grid: the family registry, the runner of every cell as its own subprocess,
and its Ray executor."""
