from django.urls import include, path

from propmgmt.urls import urlpatterns as project_urlpatterns

urlpatterns = [*project_urlpatterns, path("bench/", include("bench.plain.urls"))]
