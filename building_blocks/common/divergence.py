"""Divergence: a loss that stops being a finite number ends the cell with a status.

Once the student's KL or a generator loss term is NaN or ±inf, every later update is NaN
too, and the cell's final test accuracy or return is meaningless (issue 15: a
``--set student_lr=nan`` cell used to finish "ok" with 9.80% averaged into Table 1).
``loop.train_rounds`` checks the scalars it already fetches (Python floats: no graph op,
no extra ``session.run``) and raises ``Diverged``; the cell runners catch it and record the
cell as diverged.
"""
import math

# The student's loss in Algorithm 1's student step: KL(teacher ‖ student), Eq. 1.
STUDENT_TERM = "student KL"


class Diverged(Exception):
    """A loss term became non-finite.

    ``step``: the student update count when it was seen (a generator term: the student
    update after which that generator round ran); ``term``: e.g. "student KL" or
    "generator one_hot"; ``value``: the offending float."""

    def __init__(self, step, term, value):
        self.step, self.term, self.value = int(step), term, float(value)
        super(Diverged, self).__init__(
            "training diverged at student step %d: %s is %s" % (self.step, term, self.value))

    def fields(self):
        """The cell record's fields (the value as text: JSON has no NaN or Infinity)."""
        return {"status": "diverged", "diverged_at_step": self.step,
                "diverged_term": self.term, "diverged_value": repr(self.value)}


def check_finite(step, terms):
    """Raises ``Diverged`` for the first (by name) non-finite value of ``terms`` (a dict
    name -> Python or numpy scalar; None entries, e.g. a train op's fetch, are skipped)."""
    for term in sorted(terms):
        value = terms[term]
        if value is not None and not math.isfinite(float(value)):
            raise Diverged(step, term, value)
