"""Typed experiment configs: printed at start, saved beside every result, overridable
from the command line by ``key=value`` strings that are parsed by field type (never eval'd).
"""
import dataclasses
import json


class ConfigError(ValueError):
    """A bad override or an impossible combination of settings."""


@dataclasses.dataclass(frozen=True)
class TeacherConfig:
    """Supervised teacher training (B.1.1)."""
    task: str
    epochs: int
    batch_size: int = 256          # not given by the paper; DAFL's teacher script uses 256
    learning_rate: float = 7e-4    # B.1.1: Adam, lr 0.0007
    dropout: float = 0.2           # B.1.1: dropout probability 0.2
    # Where that dropout sits (B.1.1 does not say): "fc1" = after the hidden fully connected
    # layer (default); "all" = after every hidden layer of LeNet-5 (conv1, conv2, conv3, fc1).
    dropout_layers: str = "fc1"
    seed: int = 0
    train_examples: int = 0        # 0 = the whole training set (smoke uses a subset)
    # CIFAR-10 (DAFL's teacher-train.py): SGD momentum 0.9, weight decay 5e-4, lr × 0.1 at
    # the listed epochs. Defaults keep B.1.1's Adam teacher.
    optimizer: str = "adam"        # "adam" or "momentum" (SGD, momentum 0.9)
    weight_decay: float = 0.0      # L2 coefficient added to the gradient (PyTorch's SGD)
    lr_boundaries_epochs: str = ""  # e.g. "80,120": lr × lr_decay_factor at each
    lr_decay_factor: float = 0.1
    test_examples: int = 0         # 0 = the whole test set (quick/smoke CIFAR on CPU: a prefix)

    def validate(self):
        for name in ("epochs", "batch_size"):
            if getattr(self, name) <= 0:
                raise ConfigError("%s must be positive, got %s" % (name, getattr(self, name)))
        if self.train_examples < 0 or self.learning_rate <= 0 or not 0 <= self.dropout < 1:
            raise ConfigError("train_examples must be >= 0, learning_rate > 0, 0 <= dropout < 1")
        check_choice("dropout_layers", self.dropout_layers, ("fc1", "all"))
        if self.dropout_layers != "fc1" and self.task == "cifar10":
            raise ConfigError("dropout_layers=%s names LeNet-5 layers; the CIFAR-10 ResNet "
                              "teacher has no dropout (leave dropout_layers at fc1)"
                              % self.dropout_layers)
        return self


@dataclasses.dataclass(frozen=True)
class _DistillCell:
    """The leading fields of a distillation cell, shared by image and policy distillation
    (Algorithm 1's loop is the same for both), and the check of their schedule."""
    method: str
    task: str
    seed: int
    student_steps: int                      # total student updates
    batch_size: int                         # student batch = all generators' samples together
    student_lr: float
    student_optimizer: str = "adam"
    # DAFL as released (DAFL-train.py): each iteration's student update trains on the batch the
    # generator update just drew (detached), in one step; False: Algorithm 1's separate steps,
    # each drawing its own batch. Needs rounds of 1 student : 1 generator update.
    shared_batch: bool = False
    generator_lr: float = 0.0
    n_generators: int = 1                   # GAS: 8 concurrent generators (B.1.1)
    student_steps_per_round: int = 1        # Algorithm 1: N_s
    generator_steps_per_round: int = 0      # Algorithm 1: N_g (0: no generator, KD methods)
    reinit_every: int = 0                   # student updates between generator re-inits; 0 never
    gamma: float = 0.0                      # Eq. 4 weight of −L_distill; 0 = DAFL's L_G
    activation_weight: float = 0.1          # DAFL: --a 0.1 (λ_act, Eq. 3)
    latent_dim: int = 100                   # B.1.1 / B.3: 100-d noise
    # The noise the method draws: the generators' z (GAS B.1.1 / B.3: U(−1,1); DAFL's code:
    # normal), or noise KD's inputs (U(−1,1) by default).
    latent_distribution: str = "uniform"
    generator_batch_norm: bool = True
    # The DCGAN generators' batch norms as fused kernels (issue 14, layers.BatchNorm), the same
    # normalisation up to float rounding; on in every profile. False restores the moments
    # path that made results before issue 14 (results/calibration/ variants).
    fused_batch_norm: bool = True
    weight_decay: float = 0.0               # student L2 coefficient (CIFAR-10: DAFL's 5e-4)
    lr_decay_every: int = 0                 # student lr × lr_decay_factor every N updates; 0 off
    lr_decay_factor: float = 0.1            # B.1.2: divided by 10 every 96,000 steps
    log_every_s: float = 30.0

    def _validate_schedule(self):
        if self.student_steps <= 0 or self.batch_size <= 0:
            raise ConfigError("student_steps and batch_size must be positive")
        if self.shared_batch and (self.student_steps_per_round != 1
                                  or self.generator_steps_per_round != 1):
            raise ConfigError("shared_batch=true needs student_steps_per_round=1 and "
                              "generator_steps_per_round=1 (got %d and %d)"
                              % (self.student_steps_per_round, self.generator_steps_per_round))
        if self.shared_batch and self.gamma:
            # The generator step would read the student weights the same step updates.
            raise ConfigError("shared_batch=true is DAFL's update (gamma=0); got gamma=%s"
                              % self.gamma)
        if self.n_generators < 1 or self.batch_size % self.n_generators:
            raise ConfigError("batch_size %d must be a positive multiple of n_generators %d"
                              % (self.batch_size, self.n_generators))


@dataclasses.dataclass(frozen=True)
class DistillConfig(_DistillCell):
    """One distillation cell: method, schedule and losses. Units: steps are optimizer updates."""
    one_hot_weight: float = 1.0             # DAFL: --oh 1 (the weight α of Eq. 2's first term)
    # Eq. 2's α-term for classifiers: "one_hot" = DAFL's cross-entropy with the teacher's own
    # argmax (default); "entropy" = α·E[H(f_t(x))] as Eq. 2 writes it, in the unit of
    # entropy_log_base (DEVIATIONS.md, One-hot term).
    confidence_term: str = "one_hot"
    # Temperature T of Eq. 1's D for classifiers: T² · KL at T (Hinton et al.); 1 is DAFL's
    # kdloss and the default (the paper does not name D's temperature; DEVIATIONS.md).
    distill_temperature: float = 1.0
    information_entropy_weight: float = 5.0  # DAFL: --ie 5
    entropy_log_base: float = 10.0          # DAFL's code uses log10 in L_ie
    # Where GAS's L_ie (Eq. 2's −β·H(E f_t)) is taken; the paper does not say. "generator":
    # over each generator's own samples, so each must cover every class (default); "bank":
    # once over all generators' samples, so together they must (DEVIATIONS.md). DAFL's one
    # generator: the same either way.
    information_entropy_scope: str = "generator"
    # Eq. 3's "last hidden layer" h_t of the LeNet-5 teacher: "conv3" = the 120-d output of the
    # third convolution, DAFL's `features` (default); "fc1" = the 84-d hidden fully connected
    # layer, literally the last hidden one (DEVIATIONS.md). ResNets: pooled features only.
    activation_layer: str = "conv3"
    # Affine map a·g(z) + b on the generator's output (identity by default). Without batch
    # norm (Table 2) the DCGAN ends in tanh ∈ [−1, 1]; the input-modes study maps that to the
    # pixel range [0, 1], normalised like the real images: a = 0.5/std, b = (0.5 − mean)/std.
    generator_output_scale: float = 1.0
    generator_output_shift: float = 0.0
    # The batch norm after the image generator's tanh (DAFL's addition to DCGAN, default).
    # False keeps the hidden batch norms and ends in DCGAN's own tanh; with the pixel map above
    # the samples then lie in the real images' range (a reading of "the DCGAN architecture",
    # DEVIATIONS.md).
    generator_output_batch_norm: bool = True
    eval_every: int = 500                   # student updates between test-set evaluations
    test_examples: int = 0                  # 0 = the whole test set (a prefix otherwise)
    # XLA compiles the image generators' forward and backward (issue 14,
    # building_blocks/common/xla.py); False runs the plain oneDNN graph.
    xla_generators: bool = False

    def validate(self):
        self._validate_schedule()
        check_choice("information_entropy_scope", self.information_entropy_scope,
                     ("generator", "bank"))
        check_choice("confidence_term", self.confidence_term, ("one_hot", "entropy"))
        check_choice("latent_distribution", self.latent_distribution, ("uniform", "normal"))
        check_choice("activation_layer", self.activation_layer, ("conv3", "fc1"))
        if self.activation_layer != "conv3" and self.task == "cifar10":
            raise ConfigError("activation_layer=%s names a LeNet-5 layer; the CIFAR-10 ResNet "
                              "teacher has only its pooled features (leave activation_layer "
                              "at conv3)" % self.activation_layer)
        if self.reinit_every < 0 or self.eval_every <= 0:
            raise ConfigError("reinit_every must be >= 0 and eval_every > 0")
        if not self.distill_temperature > 0:
            raise ConfigError("distill_temperature must be positive, got %r"
                              % self.distill_temperature)
        return self


def check_choice(field, value, choices):
    """ConfigError unless ``value`` is one of ``choices``: "<field> must be 'a', 'b' or 'c',
    got 'x'"."""
    if value not in choices:
        quoted = ["'%s'" % c for c in choices]
        raise ConfigError("%s must be %s or %s, got %r"
                          % (field, ", ".join(quoted[:-1]), quoted[-1], value))


def _parse_value(field, text):
    kind = field.type if isinstance(field.type, type) else eval_type_name(field.type)
    try:
        if kind is bool:
            lowered = text.strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(text)
        return kind(text)
    except ValueError:
        raise ConfigError("override %s=%r: expected a %s" % (field.name, text, kind.__name__))


def eval_type_name(name):
    """Maps a string annotation to its type without eval."""
    return {"int": int, "float": float, "str": str, "bool": bool}[name]


def apply_overrides(config, overrides):
    """Returns ``config`` with ``["key=value", ...]`` applied (types from the dataclass)."""
    fields = {f.name: f for f in dataclasses.fields(config)}
    changes = {}
    for item in overrides or ():
        if "=" not in item:
            raise ConfigError("override %r is not of the form key=value" % item)
        key, value = item.split("=", 1)
        key = key.strip()
        if key not in fields:
            raise ConfigError("unknown config key %r in --set; known keys: %s"
                              % (key, ", ".join(sorted(fields))))
        changes[key] = _parse_value(fields[key], value)
    return dataclasses.replace(config, **changes)


def to_dict(config):
    return dataclasses.asdict(config)


def describe(config):
    """Multi-line printout of the resolved config."""
    return "%s\n%s" % (type(config).__name__, json.dumps(to_dict(config), indent=2, sort_keys=True))


@dataclasses.dataclass(frozen=True)
class PolicyDistillConfig(_DistillCell):
    """One policy-distillation cell (Tables 6-7). The schedule fields mean what they mean in
    DistillConfig (Algorithm 1's loop is shared; weight decay and lr decay stay off for
    policies); the rest is policy-specific."""
    entropy_weight: float = 1.0             # Eq. 2 α on E[H(π_t(x))]
    mean_entropy_weight: float = 5.0        # Eq. 2 β on H(E[π_t(x)]) (Eq. 5 bound if Gaussian)
    generator_hidden: int = 256             # MLP generator's hidden layer (vector tasks)
    # READING of B.3's "single-layer MLP" output (vector tasks, DEVIATIONS.md): 'batch_norm' =
    # batch norm on the hidden layer and a non-affine one on the output, then a clip at
    # ±obs_clip: each generator's batch at mean 0 / variance 1 per coordinate, the data B.2
    # says the teachers observe, as DAFL's DCGAN (B.1.1) ends in a non-affine batch norm;
    # 'normalizer' = a plain MLP (no batch norm) whose output, a raw observation, goes through
    # the teacher's observation normaliser (its samples pile up at the normaliser's clip, and
    # GAS keeps 0.05-0.11 of the HalfCheetah and Humanoid teachers; measured, README).
    generator_output: str = "batch_norm"    # (generator_batch_norm: that reading and Atari)
    # CHOICE (the paper names no student for vector tasks): the student's hidden widths as a
    # fraction of its teacher's MLP. 1.0 = the teacher's; 0.5 = "Half", as the image and ALE
    # students. ALE students are ImpalaHalf (Section 4) whatever this is.
    student_width: float = 1.0
    obs_clip: float = 5.0                   # vector generators' output clip = normaliser's
    rollout_transitions: int = 0            # Student KD: teacher transitions collected
    rollout_envs: int = 8                   # parallel envs for rollouts
    eval_episodes: int = 10                 # real-env episodes per student (one per env)
    eval_deterministic: bool = True         # student acts with its mode (argmax / mean)
    eval_max_frames: int = 0                # Atari: emulator frames per evaluation game (0: gym's
                                            # 400,000; smoke caps it, see rl.distill_configs)
    eval_every: int = 0                     # student updates between evaluations; 0: end only

    def validate(self):
        self._validate_schedule()
        if self.reinit_every < 0 or self.eval_every < 0 or self.eval_episodes < 1:
            raise ConfigError("reinit_every and eval_every must be >= 0, eval_episodes >= 1")
        if self.eval_max_frames < 0:
            raise ConfigError("eval_max_frames must be >= 0 (0: gym's limit)")
        check_choice("generator_output", self.generator_output, ("normalizer", "batch_norm"))
        if not 0.0 < self.student_width <= 1.0:
            raise ConfigError("student_width must be in (0, 1] (a fraction of the teacher's "
                              "hidden widths), got %s" % self.student_width)
        if self.method == "student_kd" and self.rollout_transitions < self.batch_size:
            raise ConfigError("student_kd needs rollout_transitions >= batch_size")
        return self
