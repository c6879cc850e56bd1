"""Atari 2600 games (gym 0.15 `<Game>NoFrameskip-v4`, atari-py 0.2.6 ROMs) with the DQN/IMPALA
preprocessing of Espeholt et al. (2018), written as one class so every step is visible:

1. reset: `ale.reset_game()`, then k ~ U{1, ..., 30} NOOP emulator frames (no-op starts; k is
   drawn from a RandomState seeded by the env seed and kept in `last_noops`);
2. step: the action is repeated for 4 emulator frames, rewards summed; the observation is the
   pixel-wise max of the last two frames (flicker), taken from ALE's own grayscale screen
   (`getScreenGrayscale`, the NTSC palette's luminance), resized 210×160 → 84×84 by area
   averaging (`resize_area`: OpenCV's INTER_AREA, written in numpy; OpenCV is not installed);
3. the last 4 processed frames are stacked on the channel axis, oldest first, newest at [..., -1]
   (uint8 HWC); after a reset the stack holds copies of the first frame.

Episode boundaries: by default an episode is a full game (all lives), and `reward` is the raw,
unclipped game reward, so `info['episode'] = {'r', 'l'}` is the real game score and length in
agent steps. Two training-time options (off by default; the learner turns them on):
`episodic_life` ends an episode when a life is lost (the next reset() plays one NOOP step instead
of restarting the game), and `clip_rewards` returns sign(reward). Even then `info['episode']`
reports the unclipped score of the full game, on the step the game ends.

The time limit is gym 0.15's: 400,000 emulator frames per game (no-op frames included), or
`max_frames` if given; the episode then ends with `info['TimeLimit.truncated'] = True`. We drive the emulator through
`ale.act` with gym's minimal action set (what gym's AtariEnv.step does with frameskip=1), which
skips gym's per-frame RGB screen copy (3× faster); sticky actions are off as in NoFrameskip-v4.
FIRE to launch (Breakout only, `FIRE_TO_LAUNCH`): Breakout serves a ball only on FIRE, so after a
new game's no-ops and after every lost life the env plays one FIRE step itself (frame_skip frames,
its reward counted, not an agent step). Without it a deterministic (argmax) policy that never
picks FIRE stalls until the 400,000-frame limit (our untrained smoke teacher did). IMPALA added
no such step; OpenAI baselines' FireResetEnv fires on reset only. Other games serve themselves.
"""
import collections

import gym
import numpy as np
from gym import spaces

SCREEN_SHAPE = (210, 160)
# Games whose ball is served only by FIRE (see the module docstring and DEVIATIONS.md).
FIRE_TO_LAUNCH = ("BreakoutNoFrameskip",)


def _area_taps(n_in, n_out):
    """Area-averaging weights of a 1-D downscale n_in -> n_out as k taps per output:
    indices [k, n_out] and weights [k, n_out] (each output averages the input interval
    [o·s, (o+1)·s), s = n_in / n_out, with fractional weights at the ends)."""
    scale = n_in / n_out
    width = int(np.ceil(scale)) + 1
    index = np.zeros((width, n_out), np.int64)
    weight = np.zeros((width, n_out), np.float32)
    for o in range(n_out):
        lo, hi = o * scale, (o + 1) * scale
        for j, i in enumerate(range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in))):
            index[j, o] = i
            weight[j, o] = (min(hi, i + 1) - max(lo, i)) / scale
    used = np.flatnonzero(weight.sum(axis=1) > 0)
    return index[used], weight[used]


_TAPS = {}


def resize_area(gray, size):
    """[H, W] uint8 -> [size, size] uint8 by area averaging, rounded to nearest: the definition
    of OpenCV's INTER_AREA for downscaling (OpenCV is not installed here; this separable numpy
    version is as fast as PIL, whose BOX filter only averages whole pixels)."""
    key = gray.shape + (size,)
    if key not in _TAPS:
        _TAPS[key] = _area_taps(gray.shape[0], size) + _area_taps(gray.shape[1], size)
    row_index, row_weight, col_index, col_weight = _TAPS[key]
    image = gray.astype(np.float32)
    rows = row_weight[0][:, None] * image[row_index[0]]
    for k in range(1, len(row_index)):
        rows += row_weight[k][:, None] * image[row_index[k]]
    out = col_weight[0] * rows[:, col_index[0]]
    for k in range(1, len(col_index)):
        out += col_weight[k] * rows[:, col_index[k]]
    return np.rint(out).astype(np.uint8)


class AtariTask:
    """One Atari game with the preprocessing above; gym 0.15 API (reset, step, spaces)."""

    def __init__(self, gym_id, seed, frame_size=84, frame_stack=4, frame_skip=4, noop_max=30,
                 episodic_life=False, clip_rewards=False, fire_to_launch=None, max_frames=None):
        wrapped = gym.make(gym_id)
        # gym's 400,000 emulator frames per game, unless a shorter cap is asked for (the smoke
        # profile's evaluations: an untrained argmax policy may never end a game).
        self.max_frames = max_frames or wrapped.spec.max_episode_steps
        self._gym_env = wrapped.unwrapped
        if self._gym_env.frameskip != 1:
            raise ValueError("%s repeats actions itself; use a NoFrameskip-v4 id" % gym_id)
        self._gym_env.seed(seed)                            # seeds and reloads the ROM
        self.ale = self._gym_env.ale
        self._action_set = self._gym_env._action_set
        meanings = self._gym_env.get_action_meanings()
        assert meanings[0] == "NOOP", meanings
        self.frame_size, self.frame_stack, self.frame_skip = frame_size, frame_stack, frame_skip
        self.noop_max = noop_max
        self.episodic_life, self.clip_rewards = episodic_life, clip_rewards
        if fire_to_launch is None:
            fire_to_launch = gym_id.startswith(FIRE_TO_LAUNCH)
        self.fire_to_launch = bool(fire_to_launch)
        if self.fire_to_launch and "FIRE" not in meanings:
            raise ValueError("%s has no FIRE action to launch with" % gym_id)
        self._fire_action = meanings.index("FIRE") if self.fire_to_launch else None
        self.launches = 0             # FIRE steps played by the env itself
        self.action_space = spaces.Discrete(len(self._action_set))
        shape = (frame_size, frame_size, frame_stack)
        self.observation_space = spaces.Box(np.zeros(shape, np.uint8), np.full(shape, 255, np.uint8),
                                            dtype=np.uint8)
        # No-op draws. Derived seeds can exceed 2^32 (e.g. PPO evaluation envs: 10^6 + ... times
        # the vec-env stride), which RandomState refuses; gym's own seeding above hashes them.
        self._rng = np.random.RandomState(seed % 2 ** 32)
        self._raw = np.zeros((2,) + SCREEN_SHAPE, np.uint8)   # the last two emulator frames
        self._max = np.zeros(SCREEN_SHAPE, np.uint8)
        self._frames_seen = collections.deque(maxlen=frame_stack)   # oldest first
        self._game_over = True        # the next reset() starts a new game
        self._started = False
        self.last_noops = 0
        self._frames = self._lives = 0
        self._game_return, self._game_length = 0.0, 0

    # -- emulator ------------------------------------------------------------------------------
    def _act_frames(self, action, n):
        """Plays `action` for up to n emulator frames, keeping the last two screens in _raw.
        Returns (summed reward, game over, truncated)."""
        ale_action = self._action_set[action]
        reward, game_over, truncated = 0.0, False, False
        for i in range(n):
            reward += self.ale.act(ale_action)
            self._frames += 1
            game_over = self.ale.game_over()
            truncated = self._frames >= self.max_frames and not game_over
            last = i == n - 1 or game_over or truncated
            if i >= n - 2 or last:
                self.ale.getScreenGrayscale(self._raw[1 if last else 0])
            if last:
                if i < n - 1 or n == 1:   # the game ended inside the skip: last frame only
                    self._raw[0] = self._raw[1]
                break
        return reward, game_over, truncated

    def _launch(self):
        """One FIRE step played by the env (FIRE_TO_LAUNCH games), its reward in the game score.
        Returns (reward, game over, truncated)."""
        reward, game_over, truncated = self._act_frames(self._fire_action, self.frame_skip)
        self._game_return += reward
        self.launches += 1
        return reward, game_over, truncated

    def _observe(self, fill=False):
        np.maximum(self._raw[0], self._raw[1], out=self._max)
        frame = resize_area(self._max, self.frame_size)
        for _ in range(self.frame_stack if fill else 1):
            self._frames_seen.append(frame)
        return np.stack(self._frames_seen, axis=-1)

    # -- gym API -------------------------------------------------------------------------------
    def seed(self, seed=None):
        """Seeds are fixed at construction (make_env); kept for the gym API."""
        return [seed]

    def reset(self):
        """A new game with no-op starts, or (episodic_life, after a lost life) one NOOP step."""
        self._started = True
        if self.episodic_life and not self._game_over:
            reward, game_over, truncated = self._act_frames(0, self.frame_skip)
            self._game_return += reward
            self._game_length += 1
            if self.fire_to_launch and not (game_over or truncated):
                _, game_over, truncated = self._launch()
            self._game_over = game_over or truncated
            if not self._game_over:
                self._lives = self.ale.lives()
                return self._observe(fill=True)
        self.ale.reset_game()
        self._frames = 0
        self.last_noops = self._rng.randint(1, self.noop_max + 1)
        for _ in range(self.last_noops):
            self._act_frames(0, 1)
            if self.ale.game_over():
                self.ale.reset_game()
                self._frames = 0
        self._raw[0] = self._raw[1]
        self._game_over = False
        self._game_return, self._game_length = 0.0, 0
        if self.fire_to_launch:
            self._launch()   # a game cannot end on its first serve
        self._lives = self.ale.lives()
        return self._observe(fill=True)

    def step(self, action):
        if not self._started:
            raise RuntimeError("call reset() before step()")
        if self._game_over:
            raise RuntimeError("the game is over; call reset()")
        reward, game_over, truncated = self._act_frames(int(action), self.frame_skip)
        self._game_return += reward
        self._game_length += 1
        lives = self.ale.lives()
        life_lost = 0 < lives < self._lives
        if (life_lost and self.fire_to_launch and not self.episodic_life
                and not (game_over or truncated)):
            launch_reward, game_over, truncated = self._launch()   # serve the next ball
            reward += launch_reward
            lives = self.ale.lives()
        self._lives = lives
        self._game_over = game_over or truncated
        info = {"ale.lives": lives}
        if self._game_over:
            info["episode"] = {"r": self._game_return, "l": self._game_length}
            if truncated:
                info["TimeLimit.truncated"] = True
        done = self._game_over or (self.episodic_life and life_lost)
        if self.clip_rewards:
            reward = float(np.sign(reward))
        return self._observe(), reward, done, info

    def close(self):
        self._gym_env.close()
