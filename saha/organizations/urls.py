from django.urls import path

from saha.organizations import public, views

app_name = "organizations"

urlpatterns = [
    path("manage/", views.home, name="home"),
    path("manage/new/", views.create, name="create"),
    path("manage/<slug:slug>/", views.dashboard, name="dashboard"),
    path("manage/<slug:slug>/settings/", views.settings_view, name="settings"),
    path("manage/<slug:slug>/members/", views.members, name="members"),
    path("manage/<slug:slug>/members/<int:pk>/role/", views.change_role, name="change_role"),
    path("manage/<slug:slug>/members/<int:pk>/remove/", views.remove_member, name="remove_member"),
    path(
        "manage/<slug:slug>/invitations/<int:pk>/revoke/",
        views.revoke_invitation,
        name="revoke_invitation",
    ),
    path("manage/<slug:slug>/audit/", views.audit_log, name="audit"),
    path("invitations/accept/", views.accept_invitation, name="invitation_accept"),
    path("invitations/<str:token>/", views.invitation, name="invitation"),
    path("o/<slug:slug>/", public.public_page, name="public"),
    path("o/<slug:slug>/search/", public.search_page, name="search"),
]
