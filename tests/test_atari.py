"""Atari preprocessing on real ROM frames (atari-py 0.2.6): area resize, max over the last two
of four repeated frames, stacking order, no-op starts, episodes as full games."""
import numpy as np
import pytest

from building_blocks.rl.envs import make_env
from building_blocks.rl.envs.atari import resize_area


def area_average(image, size):
    """Reference area resize: each output pixel is the mean of the input area it covers, with
    fractional weights at the borders (the definition of cv2.INTER_AREA for downscaling)."""
    def weights(n_in, n_out):
        w = np.zeros((n_out, n_in))
        scale = n_in / n_out
        for o in range(n_out):
            lo, hi = o * scale, (o + 1) * scale
            for i in range(int(np.floor(lo)), int(np.ceil(hi))):
                w[o, i] = min(hi, i + 1) - max(lo, i)
        return w / scale
    rows, cols = weights(image.shape[0], size), weights(image.shape[1], size)
    return rows @ image.astype(np.float64) @ cols.T


def test_resize_is_an_area_average():
    rng = np.random.RandomState(0)
    image = rng.randint(0, 256, (210, 160)).astype(np.uint8)
    for size in (84, 48):
        ours = resize_area(image, size)
        assert ours.shape == (size, size) and ours.dtype == np.uint8
        assert np.max(np.abs(ours - area_average(image, size))) <= 0.5 + 1e-3
    square = rng.randint(0, 256, (168, 168)).astype(np.uint8)   # integer factor: 2×2 means
    blocks = square.reshape(84, 2, 84, 2).astype(np.float64).mean(axis=(1, 3))
    assert np.max(np.abs(resize_area(square, 84) - blocks)) <= 0.5 + 1e-3


def grab(ale):
    return ale.getScreenGrayscale().reshape(210, 160).copy()


def test_observation_is_max_of_last_two_frames_stacked_newest_last():
    env = make_env("pong", 0)
    core = env.unwrapped
    ale = core.ale
    previous = env.reset()
    assert previous.shape == (84, 84, 4) and previous.dtype == np.uint8
    for k in range(1, 4):   # after a reset the stack is four copies of the first frame
        np.testing.assert_array_equal(previous[..., k], previous[..., 0])
    rng = np.random.RandomState(0)
    max_mattered = False
    for _ in range(60):
        action = rng.randint(6)
        # Replay the step by hand from a saved emulator state: 4 frames of the same action.
        state = ale.cloneState()
        frames = []
        for _ in range(4):
            ale.act(core._action_set[action])
            frames.append(grab(ale))
        ale.restoreState(state)
        ale.deleteState(state)
        obs, _, done, _ = env.step(action)
        expected = resize_area(np.maximum(frames[2], frames[3]), 84)
        np.testing.assert_array_equal(obs[..., -1], expected)
        np.testing.assert_array_equal(obs[..., :-1], previous[..., 1:])   # oldest first
        max_mattered |= not np.array_equal(expected, resize_area(frames[3], 84))
        previous = obs
        assert not done
    assert max_mattered, "the max over two frames never differed from the last frame"


def test_no_op_starts_are_within_1_to_30_and_seeded():
    env = make_env("breakout", 3)
    core = env.unwrapped
    counts = []
    for _ in range(8):
        env.reset()
        counts.append(core.last_noops)
        # emulator frames played by the reset: the no-ops, then Breakout's FIRE serve (4 frames)
        assert core._frames == core.last_noops + 4
    assert all(1 <= n <= 30 for n in counts) and len(set(counts)) > 1
    again = make_env("breakout", 3)
    assert [again.reset() is not None and again.unwrapped.last_noops for _ in range(8)] == counts


def test_breakout_serves_with_fire_so_a_policy_that_never_fires_still_ends_its_game():
    """FIRE_TO_LAUNCH: after the reset and after each lost life the env plays FIRE itself, so a
    NOOP-only (e.g. untrained argmax) policy loses its 5 balls quickly, in full games and with
    episodic_life alike; without it the game would stall (no ball, no lost life)."""
    for kwargs in ({}, {"episodic_life": True}):
        env = make_env("breakout", 0, **kwargs)
        env.reset()
        for steps in range(1, 2000):
            _, _, done, info = env.step(0)
            if done and "episode" in info:
                break
            if done:
                env.reset()
        assert "episode" in info and steps < 500, (kwargs, steps)
        assert env.unwrapped.launches == 5
    assert make_env("pong", 0).unwrapped.fire_to_launch is False
    from building_blocks.rl.envs.atari import AtariTask
    stalled = AtariTask("BreakoutNoFrameskip-v4", 0, fire_to_launch=False)
    stalled.reset()
    for _ in range(500):
        _, _, done, info = stalled.step(0)
        assert not done and info["ale.lives"] == 5


def test_max_frames_caps_a_game_and_is_atari_only():
    """The smoke profile's evaluation cap: the game ends, truncated, at max_frames emulator
    frames (no-op frames included), reporting its score so far."""
    env = make_env("seaquest", 0, max_frames=400)
    env.reset()
    for steps in range(1, 200):
        _, _, done, info = env.step(2)   # UP: the submarine stays at the surface
        if done:
            break
    assert done and info.get("TimeLimit.truncated") and "episode" in info
    assert env.unwrapped._frames == 400 and steps == info["episode"]["l"]
    with pytest.raises(ValueError):
        make_env("cartpole", 0, max_frames=400)


def test_lowdim_pong_stacks_two_48px_frames():
    env = make_env("pong_lowdim", 0)
    obs = env.reset()
    assert obs.shape == (48, 48, 2) and obs.dtype == np.uint8
    second = env.step(0)[0]
    np.testing.assert_array_equal(second[..., 0], obs[..., 1])


def play(env, rng, max_steps):
    env.reset()
    events = []
    for _ in range(max_steps):
        obs, reward, done, info = env.step(rng.randint(env.action_space.n))
        events.append((reward, done, info))
        if done:
            if "episode" in info:
                return events
            env.reset()
    raise AssertionError("no game over within %d steps" % max_steps)


def test_full_game_score_with_and_without_training_options():
    """Default: episode = full game, raw rewards. episodic_life + clip_rewards: done at each lost
    life and sign(reward), but info['episode'] still reports the full game's raw score."""
    plain = play(make_env("breakout", 1), np.random.RandomState(0), 3000)
    assert sum(1 for _, done, _ in plain if done) == 1
    raw_score = sum(r for r, _, _ in plain)
    assert plain[-1][2]["episode"] == {"r": raw_score, "l": len(plain)}
    assert plain[-1][2]["ale.lives"] == 0

    training = make_env("breakout", 1, episodic_life=True, clip_rewards=True)
    events = play(training, np.random.RandomState(0), 3000)
    assert set(r for r, _, _ in events) <= {-1.0, 0.0, 1.0}
    life_losses = [info["ale.lives"] for _, done, info in events if done]
    assert life_losses == [4, 3, 2, 1, 0]
    assert all("episode" not in info for _, done, info in events[:-1])
    assert events[-1][2]["episode"]["r"] >= sum(r for r, _, _ in events)
    with pytest.raises(ValueError):
        make_env("cartpole", 0, clip_rewards=True)


def test_seeds_beyond_32_bits_are_accepted():
    """Derived seeds (PPO evaluation envs: 10^6 + seed·10^4 + round, times the vec-env stride
    10007) exceed 2^32; every Atari env must still build, reset and step with them."""
    from building_blocks.rl.envs import make_vec_env
    from building_blocks.rl.teacher_runner import eval_seed
    venv = make_vec_env("pong", 2, eval_seed(3, 7))
    obs = venv.reset()
    assert obs.shape == (2, 84, 84, 4) and obs.dtype == np.uint8
    obs, rewards, dones, _ = venv.step(np.zeros(2, np.int64))
    assert obs.shape == (2, 84, 84, 4) and rewards.shape == (2,)
    venv.close()


def test_a_teachers_atari_actors_train_on_lost_life_episodes_with_clipped_rewards(
        tmp_path, monkeypatch):
    """Espeholt et al.'s training envs (issue 19): the PPO teacher's actors on an ALE game end
    an episode at a lost life and see sign(reward); other tasks keep their envs as they are,
    and so do evaluation envs (acting.evaluate: full games, raw scores)."""
    from building_blocks.rl import actor_backends, actors, envs, teacher_runner
    from reproduce.rl import teacher_configs
    assert envs.training_options("pong") == {"episodic_life": True, "clip_rewards": True}
    assert envs.training_options("pong_lowdim") == envs.training_options("breakout")
    assert envs.training_options("halfcheetah") == {} == envs.training_options("cartpole")

    seen = []

    def capture(kind, setups):
        seen.append(setups)
        raise RuntimeError("captured")  # stop before any training
    monkeypatch.setattr(actor_backends, "make_backend", capture)
    config = teacher_configs.ppo_config("pong_lowdim", "smoke")
    with pytest.raises(RuntimeError, match="captured"):
        teacher_runner.train_ppo_teacher(
            config, envs.env_spec("pong_lowdim"), "building_blocks.rl.envs",
            str(tmp_path / "t.npz"), str(tmp_path / "c.csv"), str(tmp_path / "c.png"),
            threads=1, log=lambda m: None)
    assert seen and all(s.env_options == envs.training_options("pong_lowdim") for s in seen[0])

    collector = actors._Collector(0, seen[0][0]._replace(num_envs=1))  # pylint: disable=protected-access
    game = collector.vec.envs[0].env  # TaskEnv → AtariTask
    assert game.episodic_life and game.clip_rewards
    collector.close()
