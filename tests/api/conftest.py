import pytest


@pytest.fixture(scope="session")
def served(request):
    """pytest-django's live server with a MEDIA_URL it can route around (as tests/browser/conftest.py):
    the portal sets none on purpose, Django's live server needs a string."""
    from django.test.utils import override_settings

    with override_settings(MEDIA_URL="/_media_not_served/"):
        server = request.getfixturevalue("live_server")
    return server.url.replace("//localhost:", "//127.0.0.1:")
