from consortium_hub.core.viewkit import ListPage
from consortium_hub.jobs import selectors
from consortium_hub.jobs.filters import JobRunFilter


class JobRunList(ListPage):
    area = "jobs"
    selector = staticmethod(selectors.job_runs)
    filterset_class = JobRunFilter
    template_name = "jobs/run_list.html"
    partial_template_name = "jobs/_run_table.html"
