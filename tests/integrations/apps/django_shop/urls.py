from django.urls import include, path

from . import views

api = [path("items/<slug:sku>/", views.item)]

urlpatterns = [
    path("ok/", views.ok),
    path("orders/<int:pk>/", views.order),
    path("async/orders/<int:pk>/", views.async_order),
    path("logged/<slug:name>/", views.logged),
    path("missing/", views.missing),
    path("api/v1/", include(api)),
]
