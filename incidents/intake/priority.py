"""The one place that decides how urgent a report is.

The rule, applied in order; the most urgent level that any line gives wins:

1. **critical** — the student says they are in danger right now.
2. **high** — sexual violence; violence or humiliating punishment by an adult at school; violence
   or neglect at home; anyone named as the perpetrator is an adult (school staff, a family
   member, another adult); physical violence that happened more than once; bullying,
   cyberbullying or psychological violence every day or almost (daily victimisation is what
   most often goes with self-harm and leaving school).
3. **normal** — physical violence once; bullying, cyberbullying or psychological violence once or
   a few times; verbal abuse, exclusion or damage to belongings a few times or every day;
   "something else" (we cannot tell, so we do not play it down); a report that names no form.
4. **low** — verbal abuse, exclusion or damage to belongings that happened once.

An unknown frequency (allowed only with danger now) counts as "a few times". The response
workflow reuses ``compute_priority`` when staff re-assess a report; nothing else decides it.
"""

from __future__ import annotations

from collections.abc import Iterable

from incidents.intake.models import Frequency, Perpetrator, Priority, ViolenceForm

ALWAYS_HIGH = frozenset({ViolenceForm.sexual, ViolenceForm.adult_at_school, ViolenceForm.home})
# Forms whose level depends on how often: (once, a few times, every day).
BY_FREQUENCY: dict[ViolenceForm, tuple[Priority, Priority, Priority]] = {
    ViolenceForm.physical: (Priority.normal, Priority.high, Priority.high),
    ViolenceForm.bullying: (Priority.normal, Priority.normal, Priority.high),
    ViolenceForm.cyberbullying: (Priority.normal, Priority.normal, Priority.high),
    ViolenceForm.psychological: (Priority.normal, Priority.normal, Priority.high),
    ViolenceForm.verbal: (Priority.low, Priority.normal, Priority.normal),
    ViolenceForm.exclusion: (Priority.low, Priority.normal, Priority.normal),
    ViolenceForm.belongings: (Priority.low, Priority.normal, Priority.normal),
    ViolenceForm.other: (Priority.normal, Priority.normal, Priority.normal),
}
_FREQUENCY_INDEX = {Frequency.once: 0, Frequency.few_times: 1, Frequency.daily: 2}


def compute_priority(
    *,
    danger_now: bool,
    forms: Iterable[ViolenceForm],
    perpetrator: Perpetrator | None,
    frequency: Frequency | None,
) -> Priority:
    """The priority of a report from what the student told (see the module's rule)."""
    if danger_now:
        return Priority.critical
    forms = set(forms)
    if forms & ALWAYS_HIGH or (perpetrator is not None and perpetrator.is_adult):
        return Priority.high
    if not forms:
        return Priority.normal
    index = _FREQUENCY_INDEX.get(frequency, 1)
    levels = [BY_FREQUENCY[form][index] for form in forms]
    return min(levels, key=lambda level: level.rank)
