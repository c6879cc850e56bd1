"""Typed config of a PPO teacher run (B.2, Tables 4 and 5). Per-task, per-profile values are
in reproduce/rl/teacher_configs.py; overrides via ``--set key=value``
(building_blocks.common.config)."""
import dataclasses

from building_blocks.common.config import ConfigError, check_choice


@dataclasses.dataclass(frozen=True)
class PPOConfig:
    """One PPO teacher. Units: transitions are environment steps summed over all envs; an
    update is one parameter version (``gradient_steps_per_update`` optimizer steps)."""
    task: str
    seed: int
    total_transitions: int                  # B.2: "until ... more than 10^7 transitions"
    buffer_size: int                        # Table 5: "replay buffer size" (per update)
    batch_size: int                         # Table 5: minibatch of one gradient step
    learning_rate: float                    # Table 5
    gamma: float                            # Table 5
    num_envs: int = 512                     # Table 4: concurrent environments
    num_workers: int = 2                    # actor processes sharing the envs (CHOICE: cores)
    rollout_length: int = 32                # Table 4: transitions per rollout (per env)
    clip: float = 0.2                       # Table 4: PPO clip ratio
    gradient_steps_per_update: int = 10     # Table 4 "gradient steps per update: 10"
    # How Table 4's 10 is read (READING, DEVIATIONS.md): 'epochs' = PPO's K = 10 epochs over
    # the buffer, each in minibatches of batch_size (baselines ppo2, CleanRL); 'minibatches'
    # = 10 minibatch steps per buffer (the literal reading, ~128x fewer steps per transition).
    gradient_steps_unit: str = "epochs"
    # CHOICE (paper silent; every reference PPO for MuJoCo does it): rewards divided by the
    # running std of each env's discounted return (baselines VecNormalize), clipped to ±10.
    normalize_reward: bool = True
    reward_clip: float = 10.0
    anneal_lr: bool = True                  # CHOICE: lr falls linearly to 0 over the budget
    # CHOICE: an update's remaining minibatches are skipped once the approximate KL of a
    # minibatch exceeds 1.5 × target_kl (Spinning Up / SB3 rule); 0 disables it.
    target_kl: float = 0.03
    initial_log_std: float = 0.0            # CHOICE per task (teacher_configs.INITIAL_LOG_STD)
    checkpoint_every_s: float = 300.0       # resumable state written after an update this often
    entropy_coef: float = 0.0               # Table 4: entropy penalty 0
    gae_lambda: float = 0.95                # Table 4
    max_version_lag: int = 4                # Table 4
    value_coef: float = 0.5                 # CHOICE: paper silent (PPO paper's c1 = 0.5... 1)
    max_grad_norm: float = 0.5              # CHOICE: paper silent (common PPO setting)
    adam_epsilon: float = 1e-5              # CHOICE: paper silent
    eval_every: int = 5                     # updates between evaluations
    eval_episodes: int = 5                  # episodes per evaluation (deterministic policy)
    final_eval_episodes: int = 10           # episodes of the kept policy's final evaluation
    eval_max_frames: int = 0                # Atari: emulator frames per evaluation game (0: gym's
                                            # 400,000; smoke caps it, see rl.teacher_configs)
    stop_return: float = float("inf")       # stop once an evaluation reaches this (max score)
    actor_backend: str = "process"          # 'process' (worker processes) | 'inline' | 'ray'
    log_every_s: float = 30.0

    def validate(self):
        if min(self.total_transitions, self.buffer_size, self.batch_size, self.num_envs,
               self.num_workers, self.rollout_length, self.gradient_steps_per_update,
               self.eval_every, self.eval_episodes, self.final_eval_episodes) <= 0:
            raise ConfigError("PPOConfig: sizes and counts must be positive: %s" % (self,))
        if self.batch_size > self.buffer_size:
            raise ConfigError("batch_size %d exceeds buffer_size %d"
                              % (self.batch_size, self.buffer_size))
        if self.num_envs < self.num_workers:
            raise ConfigError("num_envs %d < num_workers %d: every worker needs an env"
                              % (self.num_envs, self.num_workers))
        check_choice("actor_backend", self.actor_backend, ("process", "inline", "ray"))
        if self.eval_max_frames < 0:
            raise ConfigError("eval_max_frames must be >= 0 (0: gym's limit)")
        if self.max_version_lag < 0:
            raise ConfigError("max_version_lag must be >= 0")
        check_choice("gradient_steps_unit", self.gradient_steps_unit, ("epochs", "minibatches"))
        if self.target_kl < 0 or self.reward_clip <= 0 or self.checkpoint_every_s < 0:
            raise ConfigError("target_kl and checkpoint_every_s must be >= 0 and reward_clip "
                              "> 0: %s" % (self,))
        return self
