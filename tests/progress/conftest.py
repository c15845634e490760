import pytest
from django.db.models import Sum

from progress.models import LearnerProgress, XPEntry


@pytest.fixture
def assert_ledger_balances():
    """Every learner's kept total equals the sum of their ledger rows."""

    def check() -> None:
        for progress in LearnerProgress.objects.all():
            ledger = XPEntry.objects.filter(learner_id=progress.learner_id).aggregate(total=Sum("amount"))["total"]
            assert progress.xp == (ledger or 0), f"{progress.learner}: total {progress.xp}, ledger {ledger}"

    return check
