from servicepulse.analysis.tasks import analyze_pending
from servicepulse.core.scheduler import Periodic

SCHEDULE = [Periodic(name="analysis.analyze_pending", task=analyze_pending, seconds=300)]
