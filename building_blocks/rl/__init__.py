"""The RL side (Tables 6-7): environments, policies, PPO (math, learner, reward scaling, rollout
buffer), actors and their backends (processes, Ray), the PPO teacher runner and the policy-
distillation runner."""
