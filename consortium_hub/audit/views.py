from consortium_hub.audit import selectors
from consortium_hub.audit.filters import ChangeRecordFilter
from consortium_hub.core.viewkit import ListPage


class ChangeLog(ListPage):
    area = "audit"
    selector = staticmethod(selectors.change_log)
    filterset_class = ChangeRecordFilter
    template_name = "audit/change_log.html"
    partial_template_name = "audit/_change_table.html"
