from ansible_collections.appstack.platform.plugins.filter.upstream import FilterModule
from ansible_collections.appstack.platform.plugins.module_utils.nginx_upstream import identity


def test_the_filter_gives_templates_the_names_app_rollout_uses():
    upstream = FilterModule().filters()["upstream"]
    assert (
        upstream("my-app", "prod")
        == identity("my-app", "prod", "web")
        == {
            "name": "my_app_prod_web",
            "file": "my-app-prod-web.conf",
            "static_dir": "/var/www/appstack/my-app-prod-web",
        }
    )
    assert upstream("my-app", "prod", "api")["name"] == "my_app_prod_api"
