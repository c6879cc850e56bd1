"""`python -m reproduce bench`: throughput of the distillation steps, the RL environments,
PPO and the grid's executors on this machine."""
