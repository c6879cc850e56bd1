"""The algorithm itself, checked against the paper rather than against the code: Eq. 4's
sign and gradient path (GAS), Algorithm 1's schedule (``loop.train_rounds``), and DAFL as
released (one joint update on one shared generated batch).

Variants are compared across graphs: with the same config and graph seed, two graphs have
the same initial weights and draw the same latent batch in their first run, whatever other
ops they hold (``building_blocks.common.seeds``); every comparison below fetches what it compares in
one ``sess.run`` per graph.
"""
import numpy as np
import pytest

from building_blocks.distill.loop import new_loop_state, train_rounds
from building_blocks.common.tf_compat import tf
from dafl_baseline.distiller import DAFLDistiller
from gas.distiller import GASDistiller
from tests.test_distillers import (assert_one_adam_step_trained_each_generator, build, changed,
                                   gas_config, generator_gradients, values)

# Framework-level: also runs in the TF 2.x compat.v1 lane (./run_tests.sh).
pytestmark = pytest.mark.tf2

GAMMA = 0.4


class RecordingGAS(GASDistiller):
    """Production GAS that only remembers the generator step's samples (all generators,
    concatenated), so a test can build its own ops on them."""

    def _student_out_for_generator_step(self, samples):
        self.generator_step_samples = samples
        return super(RecordingGAS, self)._student_out_for_generator_step(samples)


class StudentStopGradientGAS(GASDistiller):
    """GAS whose adaptive term cannot reach the generators through the student: the student
    sees the samples as constants (the teacher path of the KL is left as it is)."""

    def _student_out_for_generator_step(self, samples):
        return self.student(tf.stop_gradient(samples), training=False)


def new_graph(seed):
    graph = tf.Graph()
    with graph.as_default():
        tf.set_random_seed(seed)
    return graph


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def kl_teacher_student(teacher_logits, student_logits):
    """Per-example KL(softmax(t) ‖ softmax(s)) in nats (numpy, float64)."""
    t, s = log_softmax(teacher_logits.astype(np.float64)), log_softmax(
        student_logits.astype(np.float64))
    return (np.exp(t) * (t - s)).sum(axis=-1)


def summed_generator_kl(teacher_logits, student_logits, k):
    """Σ over the k generators of the mean KL(teacher ‖ student) on each generator's slice
    (tensors [k·b, classes]): Eq. 4's distillation term as it enters ``generator_objective``."""
    log_t = tf.nn.log_softmax(teacher_logits)
    per_example = tf.reduce_sum(tf.exp(log_t) * (log_t - tf.nn.log_softmax(student_logits)),
                                axis=-1)
    return tf.add_n([tf.reduce_mean(part) for part in tf.split(per_example, k)])


# ---------------------------------------------------------------- GAS: Eq. 4 (sign, gradient)

def test_gamma_subtracts_the_kl_from_the_generator_objective(session_of):
    """Eq. 4: L_adapt = L_G − γ·KL(teacher ‖ student) on the generator's batch, the student
    as it is (no student step). With the same weights and latent batch, the γ = 0.4 objective
    must be the γ = 0 objective minus 0.4 × the KL computed here in numpy. Fails if γ's sign
    is flipped (the generator would chase agreement, not disagreement), if the KL is not
    teacher → student, or if γ is dropped or scaled."""
    fetched = {}
    for gamma in (GAMMA, 0.0):
        graph = new_graph(0)
        with graph.as_default():
            teacher, student, distiller = build(graph, RecordingGAS, gas_config(gamma=gamma))
            samples = distiller.generator_step_samples
            fetches = dict(distiller.generator_fetches, samples=samples,
                           teacher_logits=teacher(samples).logits,
                           student_logits=student(samples).logits)
            sess = session_of(graph)
            sess.run(tf.global_variables_initializer())
            fetched[gamma] = sess.run(fetches)
    adaptive, plain = fetched[GAMMA], fetched[0.0]
    # The premise: same generator weights, same z, same networks → same L_G terms.
    np.testing.assert_array_equal(adaptive["samples"], plain["samples"])
    np.testing.assert_array_equal(adaptive["student_logits"], plain["student_logits"])
    for term in ("one_hot", "information_entropy", "activation"):
        np.testing.assert_allclose(adaptive[term], plain[term], rtol=1e-6, err_msg=term)
    k = gas_config().n_generators
    kl = kl_teacher_student(plain["teacher_logits"], plain["student_logits"])
    # ``generator_fetches["generator_objective"]`` is the objective summed over generators
    # / k, i.e. the mean over generators of (L_G − γ · mean KL on that generator's slice).
    mean_kl = np.mean([part.mean() for part in np.split(kl, k)])
    assert GAMMA * mean_kl > 1e-3, "KL too small for this test to see the adaptive term"
    expected = plain["generator_objective"] - GAMMA * mean_kl
    np.testing.assert_allclose(adaptive["generator_objective"], expected, rtol=0, atol=1e-5)


def test_bank_scope_takes_one_information_entropy_over_all_generators(session_of):
    """``information_entropy_scope="bank"``: L_ie = −H(E f_t) over every generator's samples
    together (numpy, log10 as DAFL), entering each of the k generator objectives once, so the
    objective (summed / k) moves by w_ie · (L_ie(bank) − mean of the per-generator L_ie).
    Fails if the bank reading still takes L_ie per generator, weights it differently, or
    changes any other term."""
    fetched = {}
    for scope in ("generator", "bank"):
        graph = new_graph(0)
        with graph.as_default():
            teacher, _, distiller = build(graph, RecordingGAS,
                                          gas_config(information_entropy_scope=scope))
            fetches = dict(distiller.generator_fetches,
                           teacher_logits=teacher(distiller.generator_step_samples).logits)
            # A fresh teacher is near uniform on every input, where both readings agree;
            # scaled weights make it confident and its classes differ between generators.
            sharpen = [v.assign(2.0 * v) for v in teacher.variables]
            sess = session_of(graph)
            sess.run(tf.global_variables_initializer())
            sess.run(sharpen)
            fetched[scope] = sess.run(fetches)
    own, bank = fetched["generator"], fetched["bank"]
    np.testing.assert_array_equal(own["teacher_logits"], bank["teacher_logits"])
    for term in ("one_hot", "activation"):
        np.testing.assert_allclose(bank[term], own[term], rtol=1e-6, err_msg=term)
    logits = own["teacher_logits"].astype(np.float64)
    mean_probs = np.exp(log_softmax(logits)).mean(axis=0)
    bank_ie = float((mean_probs * np.log(mean_probs)).sum() / np.log(10.0))
    per_generator = [
        float((p * np.log(p)).sum() / np.log(10.0)) for p in
        (np.exp(log_softmax(part)).mean(axis=0) for part in np.split(logits, 4))]
    np.testing.assert_allclose(own["information_entropy"], np.mean(per_generator), atol=1e-5)
    np.testing.assert_allclose(bank["information_entropy"], bank_ie, atol=1e-5)
    assert abs(bank_ie - np.mean(per_generator)) > 1e-3, "scopes too close for this test"
    weight = gas_config().information_entropy_weight
    np.testing.assert_allclose(
        bank["generator_objective"] - own["generator_objective"],
        weight * (bank_ie - np.mean(per_generator)), rtol=0, atol=1e-4)


def _generator_gradient_fetches(cls, gamma, session_of):
    """Per generator (flattened): the gradient of ``generator_objective``; with ``cls`` =
    RecordingGAS also −γ·∇ of the summed KL, along both paths and along the student only."""
    graph = new_graph(0)
    with graph.as_default():
        teacher, student, distiller = build(graph, cls, gas_config(gamma=gamma))
        fetches = {"objective": generator_gradients(distiller)}
        if cls is RecordingGAS:
            samples = distiller.generator_step_samples
            t_logits, s_logits = teacher(samples).logits, student(samples).logits
            k = len(distiller.bank)
            for name, t in (("kl_both_paths", t_logits),
                            ("kl_student_path", tf.stop_gradient(t_logits))):
                term = -gamma * summed_generator_kl(t, s_logits, k)
                fetches[name] = [tf.gradients(term, g.trainable_variables)
                                 for g in distiller.bank.generators]
        sess = session_of(graph)
        sess.run(tf.global_variables_initializer())
        out = sess.run(fetches)
    return {name: [np.concatenate([g.ravel() for g in per_generator])
                   for per_generator in grads] for name, grads in out.items()}


def test_kl_term_reaches_every_generator_through_the_student(session_of):
    """∂L_adapt/∂θ_g = ∂L_G/∂θ_g − γ·∂KL/∂θ_g, where the KL depends on the samples through
    both the teacher and the student. Checked per generator (4 of them):
    (a) γ = 0.4 minus γ = 0 equals −γ·∇KL along both paths (computed here on the same
        samples): fails if γ's sign flips or if the KL is cut from a generator;
    (b) production minus a variant whose student sees stop_gradient(samples) equals −γ·∇KL
        along the student path alone, which is a sizeable part of the KL's gradient: fails
        if a stop_gradient (or a frozen copy of the samples) is put in front of the student
        in the generator step, which would keep the teacher's part and pass (a)'s "differs".
    The stop-gradient variant is NOT the γ = 0 gradient: the teacher's path remains."""
    full = _generator_gradient_fetches(RecordingGAS, GAMMA, session_of)
    plain = _generator_gradient_fetches(GASDistiller, 0.0, session_of)["objective"]
    stopped = _generator_gradient_fetches(StudentStopGradientGAS, GAMMA,
                                          session_of)["objective"]

    def assert_close(got, expected, what):
        error = np.linalg.norm(got - expected)
        assert error <= 1e-2 * np.linalg.norm(expected), "%s: |error| %g, |expected| %g" % (
            what, error, np.linalg.norm(expected))

    for i in range(gas_config().n_generators):
        both, student_path = full["kl_both_paths"][i], full["kl_student_path"][i]
        assert np.linalg.norm(both) > 1e-3 * np.linalg.norm(plain[i]) > 0
        assert np.linalg.norm(student_path) > 0.1 * np.linalg.norm(both), \
            "generator %d: the student path is a negligible part of the KL gradient" % i
        assert_close(full["objective"][i] - plain[i], both, "generator %d, γ=0.4 − γ=0" % i)
        assert_close(full["objective"][i] - stopped[i], student_path,
                     "generator %d, production − student stop-gradient" % i)


# ---------------------------------------------------------------- Algorithm 1's loop

class Op(object):
    """A sentinel fetch; ``sess.run`` of it is recorded as ``label``."""

    def __init__(self, label):
        self.label = label

    def __repr__(self):
        return "Op(%s)" % self.label


class FakeDistiller(object):
    def __init__(self, joint=False):
        self.student_train_op, self.generator_train_op = Op("S"), Op("G")
        self.reinit_op = Op("R")
        self.joint_train_op = Op("J") if joint else None
        self.student_loss = Op("student_loss")
        self.generator_fetches = {"one_hot": Op("one_hot"), "generator_objective": Op("obj")}

    @property
    def has_generators(self):
        return True


class FakeSession(object):
    """Records the sequence of train ops, re-inits and evaluations; the fetched student loss
    is the number of student updates so far (so history shows which step it came from)."""

    def __init__(self, distiller, events):
        self.distiller, self.events, self.student_updates = distiller, events, 0
        self.fetched_keys = {}  # label → the sorted fetch keys of each run of that op

    def run(self, fetches):
        d = self.distiller
        if fetches is d.reinit_op:
            self.events.append("R")
            return None
        assert isinstance(fetches, dict), fetches
        train = fetches["train"]
        assert train in (d.student_train_op, d.generator_train_op, d.joint_train_op), train
        self.events.append(train.label)
        self.fetched_keys.setdefault(train.label, []).append(sorted(fetches))
        if train is not d.generator_train_op:
            self.student_updates += 1
            assert fetches["student_loss"] is d.student_loss
        values = {key: 0.25 for key in fetches}
        values.update(train=None, student_loss=float(self.student_updates))
        return values


class Recorder(object):
    def __init__(self, events=None, label=None):
        self.events, self.label, self.calls = events, label, []

    def update(self, step, *args, **kwargs):  # Progress
        del args, kwargs
        self.calls.append(step)

    def start_from(self, step):  # Progress
        del step

    def write(self, step, scalars):  # Scalars
        self.calls.append((step, dict(scalars)))

    def maybe_save(self, sess, state, force=False):  # PartialRun
        del sess, force
        self.events.append("%s%d" % (self.label, state["step"]))


def run_schedule(joint=False, **fields):
    config = gas_config(**fields)
    events = []
    distiller = FakeDistiller(joint)
    sess = FakeSession(distiller, events)
    state = new_loop_state(config)

    def evaluate():
        events.append("E%d" % state["step"])
        return {"test_accuracy": 100.0 - state["step"]}
    scalars = Recorder()
    returned = train_rounds(sess, config, distiller, state, evaluate, Recorder(), scalars,
                            Recorder(events, "P"), 0.0)
    assert returned is state
    return events, state, scalars, sess


@pytest.mark.parametrize("fields,expected,counts", [
    # 10 student updates in rounds of N_s = 3 (the last round has 1), N_g = 2, re-init every
    # 6 student updates, evaluation every 4 and at the end. P: mid-cell checkpoint.
    (dict(student_steps=10, student_steps_per_round=3, generator_steps_per_round=2,
          reinit_every=6, eval_every=4),
     "S S S G G P3 S E4 S S R G G P6 S S E8 S G G P9 S E10",
     dict(step=10, generator_steps=6, reinits=1, next_reinit=12)),
    # Re-init before every generator round (reinit_every = N_s).
    (dict(student_steps=7, student_steps_per_round=2, generator_steps_per_round=1,
          reinit_every=2, eval_every=3),
     "S S R G P2 S E3 S R G P4 S S E6 R G P6 S E7",
     dict(step=7, generator_steps=3, reinits=3, next_reinit=8)),
    # No re-init (DAFL on GAS's schedule).
    (dict(student_steps=4, student_steps_per_round=2, generator_steps_per_round=3,
          reinit_every=0, eval_every=500),
     "S S G G G P2 S S E4",
     dict(step=4, generator_steps=3, reinits=0, next_reinit=0)),
], ids=["reinit_every_2_rounds", "reinit_every_round", "no_reinit"])
def test_train_rounds_follows_algorithm_1(fields, expected, counts):
    """Algorithm 1: rounds of N_s student updates; after a round, if the re-init period has
    elapsed the generators are re-initialised BEFORE that round's N_g generator updates; no
    generator round after the last student update; evaluation every ``eval_every`` student
    updates and at the end, with the student loss of that very update; checkpoints only at
    round boundaries after the generator round. Fails on any off-by-one in the schedule."""
    events, state, scalars, sess = run_schedule(**fields)
    assert " ".join(events) == expected
    assert {key: state[key] for key in counts} == counts
    assert events.count("S") == state["step"] and events.count("G") == state["generator_steps"]
    assert events.count("R") == state["reinits"]
    eval_steps = [int(e[1:]) for e in events if e.startswith("E")]
    assert [h["step"] for h in state["history"]] == eval_steps
    for h in state["history"]:
        assert h["student_loss"] == h["step"] and h["test_accuracy"] == 100.0 - h["step"]
    assert [call[0] for call in scalars.calls] == eval_steps
    assert sess.fetched_keys == {
        "S": [["student_loss", "train"]] * state["step"],
        "G": [["generator_objective", "one_hot", "train"]] * state["generator_steps"]}


def test_train_rounds_joint_mode_runs_one_joint_update_per_step():
    """DAFL as released (``joint_train_op``): each step is one joint update of student and
    generator, counted as one generator step; there are no separate generator updates and
    the generator's fetches come with the joint run. Fails if joint mode also runs
    ``generator_train_op`` (two generator updates per iteration) or miscounts."""
    events, state, scalars, sess = run_schedule(
        joint=True, method="dafl", n_generators=1, gamma=0.0, student_steps=5,
        student_steps_per_round=1, generator_steps_per_round=1, reinit_every=0, eval_every=2)
    assert " ".join(events) == "J P1 J E2 P2 J P3 J E4 P4 J E5"
    assert state["step"] == state["generator_steps"] == 5 and state["reinits"] == 0
    assert [h["step"] for h in state["history"]] == [2, 4, 5]
    assert sess.fetched_keys == {
        "J": [["generator_objective", "one_hot", "student_loss", "train"]] * 5}
    # The generator's fetches of the joint run are logged with the evaluation.
    assert all("generator/one_hot" in values for _, values in scalars.calls)


# ---------------------------------------------------------------- DAFL as released

def dafl_config(shared_batch=True):
    return gas_config(method="dafl", n_generators=1, gamma=0.0, reinit_every=0,
                      latent_distribution="normal", shared_batch=shared_batch)


def _one_update(which, session_of):
    """Teacher, student and generator variables before and after one run of ``which``
    (an attribute name of the distiller) in a fresh shared-batch DAFL graph; also the
    generator gradients of the first batch (a run of their own)."""
    graph = new_graph(0)
    with graph.as_default():
        teacher, student, distiller = build(graph, DAFLDistiller, dafl_config())
        gradients = generator_gradients(distiller)
        groups = (teacher.variables, student.trainable_variables,
                  distiller.bank.trainable_variables)
        sess = session_of(graph)
        sess.run(tf.global_variables_initializer())
        before = [values(sess, v) for v in groups]
        sess.run(getattr(distiller, which))
        after = [values(sess, v) for v in groups]
        gradient_values = sess.run(gradients)
    return distiller, before, after, gradient_values


def test_dafl_joint_update_trains_both_networks_from_the_same_parameters(session_of):
    """DAFL-train.py: one backward pass, then optimizer_G.step() and optimizer_S.step(). One
    run of ``joint_train_op`` must move every student variable and every generator variable
    that has a gradient, never the teacher; and each network's new weights must equal those
    of its own update alone from the same start on the same batch (the two updates do not
    see each other's result). Fails if the joint op drops one update, trains the teacher,
    or orders the updates so that one reads the other's new weights."""
    distiller, before, after, gradients = _one_update("joint_train_op", session_of)
    assert distiller.joint_train_op is not None
    assert not any(changed(before[0], after[0])), "teacher changed"
    assert all(changed(before[1], after[1])), "some student variable did not train"
    assert_one_adam_step_trained_each_generator(distiller, gradients, before[2], after[2])
    _, s_before, s_after, _ = _one_update("student_train_op", session_of)
    _, g_before, g_after, _ = _one_update("generator_train_op", session_of)
    for a, b in zip(before[1] + before[2], s_before[1] + g_before[2]):
        np.testing.assert_array_equal(a, b)  # the premise: same initial weights
    assert not any(changed(s_before[2], s_after[2])) and not any(changed(g_before[1], g_after[1]))
    for joint, alone in zip(after[1] + after[2], s_after[1] + g_after[2]):
        np.testing.assert_allclose(joint, alone, rtol=1e-6, atol=1e-7)


def _ancestors(tensor):
    seen, stack = set(), [tensor.op]
    while stack:
        op = stack.pop()
        if op.name not in seen:
            seen.add(op.name)
            stack.extend(t.op for t in op.inputs)
            stack.extend(op.control_inputs)
    return seen


def _first_layer_input(scope, network):
    """The input tensor of ``network``'s first convolution built under name scope ``scope``
    (found through the graph: the Conv2D op there that reads the network's conv1/w)."""
    weight = network.conv1.w.op.name
    convs = [op for op in tf.get_default_graph().get_operations()
             if op.type == "Conv2D" and op.name.startswith(scope + "/")
             and weight in (op.inputs[1].op.name,
                            *[t.op.name for t in op.inputs[1].op.inputs])]
    assert len(convs) == 1, [op.name for op in convs]
    return convs[0].inputs[0]


@pytest.mark.parametrize("shared_batch", [True, False], ids=["shared", "fresh"])
def test_dafl_student_trains_on_the_generator_steps_own_samples(session_of, shared_batch):
    """shared_batch (DAFL as released): the student's training inputs are the very samples
    the generator update scores with the teacher (one latent draw, under ``iteration/``; no
    latent of the student step's own). shared_batch=False (Algorithm 1): each step draws its
    own latent batch, so the two inputs differ. Fails if the shared mode silently draws a
    second batch for the student, or the fresh mode reuses the generator's."""
    graph = new_graph(0)
    with graph.as_default():
        teacher, student, distiller = build(graph, DAFLDistiller, dafl_config(shared_batch))
        student_inputs = _first_layer_input("student_step", student)
        generator_inputs = _first_layer_input("generator_step", teacher)
        op_names = [op.name for op in graph.get_operations()]
        student_sources = _ancestors(student_inputs)
        generator_sources = _ancestors(generator_inputs)
        sess = session_of(graph)
        sess.run(tf.global_variables_initializer())
        student_x, generator_x, shared_x = sess.run(
            [student_inputs, generator_inputs, distiller._shared_samples or []])
    assert student_x.shape == generator_x.shape == (16, 32, 32, 1)
    if shared_batch:
        assert distiller.joint_train_op is not None and distiller._shared_samples is not None
        assert "iteration/latent" in student_sources and "iteration/latent" in generator_sources
        assert not [n for n in op_names if n.startswith(("student_step/latent",
                                                          "generator_step/latent"))]
        # Same draw: equal up to rounding (grappler may rewrite the fetched copy of a node
        # differently from its consumers); a different draw differs by O(1).
        np.testing.assert_allclose(student_x, np.concatenate(shared_x), rtol=0, atol=1e-5)
        np.testing.assert_allclose(student_x, generator_x, rtol=0, atol=1e-5)
    else:
        assert distiller.joint_train_op is None and distiller._shared_samples is None
        assert "student_step/latent" in student_sources
        assert "generator_step/latent" in generator_sources
        assert not [n for n in student_sources | generator_sources if n.startswith("iteration/")]
        assert np.abs(student_x - generator_x).max() > 0.1
