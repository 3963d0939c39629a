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


def test_the_sites_services_are_each_sites_own_and_its_locations_once_each():
    site_upstreams = FilterModule().filters()["site_upstreams"]
    sites = [
        {"name": "shop", "app": "shop", "env": "prod", "proxy_locations": [{"path": "/api/", "service": "api"}]},
        {"name": "shop-www", "app": "shop", "env": "prod", "proxy_locations": [{"path": "/events/"}]},
        {"name": "admin", "app": "shop", "env": "prod", "service": "admin"},
    ]
    assert [names["name"] for names in site_upstreams(sites)] == ["shop_prod_web", "shop_prod_api", "shop_prod_admin"]
