from django.urls import path

from bench.ceiling import views

urlpatterns = [path("insert", views.insert), path("count", views.count)]
