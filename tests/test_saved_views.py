"""Saved views: a page and its filters under a name, personal or shared with a partner's users;
opening one reopens the page exactly so; nobody else sees, opens or deletes it."""

import pytest

from sessions_app.models import SavedView


def login(client, world, persona):
    client.force_login(world.users[persona])
    return client


def save(client, name, path="/", query="preset=7d&type=V", partner=""):
    return client.post(
        "/views/new/", {"name": name, "path": path, "query": query, "partner": partner}
    )


def test_a_view_is_saved_from_the_page_it_shows_and_reopens_it_exactly(client, world):
    login(client, world, "analyst")
    page = client.get("/agents/?preset=7d&type=V&sort=-minutes&page=2").content.decode()
    # The page carries the form, filled with where the user is.
    assert 'action="/views/new/"' in page and 'name="path" value="/agents/"' in page
    response = save(client, "Video agents", "/agents/", "preset=7d&type=V&sort=-minutes&page=2")
    view = SavedView.objects.get(name="Video agents")
    assert response.status_code == 302 and response.url == "/agents/?preset=7d&type=V&sort=-minutes"
    assert (view.owner, view.partner, view.path) == (world.users["analyst"], None, "/agents/")
    opened = client.get(f"/views/{view.pk}/")
    assert opened.status_code == 302 and opened.url == "/agents/?preset=7d&type=V&sort=-minutes"
    follow = client.get(opened.url).content.decode()
    assert 'value="V" checked' in follow  # the filter bar shows the saved filters
    listing = client.get("/views/").content.decode()
    assert "Video agents" in listing and "Agents" in listing and "only you" in listing
    assert "Last 7 days · Video · most handled minutes first" in listing  # the filters, in words


def test_the_list_names_a_views_partners_and_agents(client, world):
    login(client, world, "analyst")
    agent = world.session_of(world.a).agent
    query = (
        f"start=2026-11-01&end=2026-11-07&partner={world.a.pk}&agent={agent.pk}&outcome=connected"
    )
    save(client, "Named", "/", query)
    listing = client.get("/views/").content.decode()
    expected = f"2026-11-01 to 2026-11-07 · {world.a.name} · Connected (C, X) · agent {agent.name}"
    assert expected in listing


def test_saving_the_same_name_again_updates_the_view(client, world):
    login(client, world, "analyst")
    save(client, "Mine", "/", "preset=7d")
    save(client, "Mine", "/geography/", "preset=30d")
    view = SavedView.objects.get()
    assert (view.path, view.query) == ("/geography/", "preset=30d")


def test_a_personal_view_is_nobody_elses(client, world):
    login(client, world, "analyst")
    save(client, "Private", "/sessions/", "type=C")
    view = SavedView.objects.get()
    for persona in ("viewer", "admin", "outsider"):
        login(client, world, persona)
        assert client.get(f"/views/{view.pk}/").status_code == 404, persona
        assert "Private" not in client.get("/views/").content.decode()
        assert client.post(f"/views/{view.pk}/delete/").status_code == 404
    assert SavedView.objects.exists()


def test_a_shared_view_reaches_everyone_who_sees_the_partner_and_no_one_else(client, world):
    login(client, world, "analyst")
    save(client, "Team view", "/", "preset=30d&outcome=connected", partner=world.a.pk)
    view = SavedView.objects.get()
    assert view.partner == world.a
    for persona in ("viewer", "admin"):
        login(client, world, persona)
        assert "Team view" in client.get("/views/").content.decode(), persona
        assert client.get(f"/views/{view.pk}/").url == "/?preset=30d&outcome=connected"
    login(client, world, "outsider")
    assert client.get(f"/views/{view.pk}/").status_code == 404
    # A viewer may open it but not delete it; the partner's admin may.
    login(client, world, "viewer")
    assert client.post(f"/views/{view.pk}/delete/").status_code == 403
    login(client, world, "admin")
    assert client.post(f"/views/{view.pk}/delete/").status_code == 302
    assert not SavedView.objects.exists()


def test_a_view_cannot_be_shared_with_a_partner_one_cannot_analyse(client, world):
    login(client, world, "viewer")
    save(client, "Shared?", "/", "preset=7d", partner=world.a.pk)  # viewer: no sharing
    login(client, world, "analyst")
    save(client, "Theirs?", "/", "preset=7d", partner=world.b.pk)  # not their partner
    assert not SavedView.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["https://evil.example/", "//evil.example/", "/admin/", "/partners/", "/views/", "nowhere"],
)
def test_only_the_dashboards_pages_can_be_saved(client, world, path):
    login(client, world, "analyst")
    response = save(client, "Elsewhere", path, "preset=7d")
    assert response.status_code == 302 and response.url == "/"  # never off-site
    assert not SavedView.objects.exists()
    assert "Only the dashboard" in client.get("/").content.decode()


def test_saving_needs_a_name_and_a_csrf_token(client, world):
    login(client, world, "analyst")
    response = save(client, "", "/geography/", "preset=7d")
    assert response.url == "/geography/?preset=7d"
    assert "The view was not saved" in client.get(response.url).content.decode()
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(world.users["analyst"])
    assert save(strict, "Forged", "/", "preset=7d").status_code == 403
    assert not SavedView.objects.exists()


def test_a_saved_view_name_from_outside_is_shown_as_text(client, world):
    login(client, world, "analyst")
    save(client, "<script>alert(1)</script>", "/", "preset=7d")
    listing = client.get("/views/").content.decode()
    assert "<script>alert(1)</script>" not in listing and "&lt;script&gt;" in listing


def _guest_search_view(world):
    return SavedView.objects.create(
        owner=world.users["analyst"],
        name="One guest",
        path="/sessions/",
        query="preset=30d&q=zoe.secret%40example.com",
        partner=world.a,
    )


def test_a_shared_views_guest_search_is_masked_for_those_who_may_not_search(client, world):
    view = _guest_search_view(world)
    client.force_login(world.users["viewer"])
    listing = client.get("/views/").content.decode()
    assert "zoe.secret" not in listing and "guest ••••" in listing
    opened = client.get(f"/views/{view.pk}/")
    assert opened.status_code == 302 and "zoe.secret" not in opened["Location"]
    client.force_login(world.users["analyst"])  # who may search guests sees what was searched
    assert "zoe.secret@example.com" in client.get("/views/").content.decode()
    assert "q=zoe.secret" in client.get(f"/views/{view.pk}/")["Location"]
