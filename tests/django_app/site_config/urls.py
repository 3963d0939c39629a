from django.contrib import admin
from django.urls import path
from notes import views

urlpatterns = [
    path("health/", views.health),
    path("version/", views.version),
    path("notes/", views.notes),
    path("media/<str:name>", views.media),
    path("ticks/", views.ticks),
    path("admin/", admin.site.urls),
]
