"""Writes of the agreements area (see each module)."""

from consortium_hub.agreements.services.agreements import (
    agreement_create,
    agreement_update,
    document_problem,
)
from consortium_hub.agreements.services.reminders import (
    catch_up_renewal_reminders,
    send_renewal_reminders,
)
from consortium_hub.agreements.services.renewals import (
    catch_up_agreement_statuses,
    renewal_decide,
    roll_agreements_forward,
)

__all__ = ["agreement_create", "agreement_update", "catch_up_agreement_statuses", "catch_up_renewal_reminders",
           "document_problem", "renewal_decide", "roll_agreements_forward", "send_renewal_reminders"]
