from consortium_hub.billing.views import cycles, fees, invoices, reports

app_name = "billing"

urlpatterns = [*fees.urlpatterns, *cycles.urlpatterns, *invoices.urlpatterns, *reports.urlpatterns]
