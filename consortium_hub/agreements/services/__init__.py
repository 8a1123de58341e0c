"""Writes of the agreements area (see each module)."""

from consortium_hub.agreements.services.agreements import (  # noqa: F401
    agreement_create,
    agreement_update,
    document_problem,
)
from consortium_hub.agreements.services.reminders import (  # noqa: F401
    catch_up_renewal_reminders,
    send_renewal_reminders,
)
from consortium_hub.agreements.services.renewals import (  # noqa: F401
    catch_up_agreement_statuses,
    renewal_decide,
    roll_agreements_forward,
)
