import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.appstack.platform.plugins.filter.pg_tuning import FilterModule, pg_tuning


@pytest.mark.parametrize(
    ("memory_mb", "profile", "max_connections", "expected"),
    [
        # A 4 GiB dedicated database host: 25 % / 75 % / RAM/16.
        (
            4096,
            "auto",
            None,
            {
                "max_connections": 100,
                "shared_buffers": "1024MB",
                "effective_cache_size": "3072MB",
                "work_mem": "10MB",
                "maintenance_work_mem": "256MB",
            },
        ),
        # The molecule host's value: what verify.yml expects to SHOW.
        (
            2048,
            "auto",
            None,
            {
                "max_connections": 100,
                "shared_buffers": "512MB",
                "effective_cache_size": "1536MB",
                "work_mem": "5MB",
                "maintenance_work_mem": "128MB",
            },
        ),
        # Large host: shared_buffers and maintenance_work_mem stop at their caps.
        (
            262144,
            "auto",
            400,
            {
                "max_connections": 400,
                "shared_buffers": "16384MB",
                "effective_cache_size": "196608MB",
                "work_mem": "204MB",
                "maintenance_work_mem": "2048MB",
            },
        ),
        # work_mem never drops below 1MB, however many connections.
        (
            512,
            "auto",
            1000,
            {
                "max_connections": 1000,
                "shared_buffers": "128MB",
                "effective_cache_size": "384MB",
                "work_mem": "1MB",
                "maintenance_work_mem": "32MB",
            },
        ),
        # The 512 MB all-in-one host.
        (
            512,
            "small",
            None,
            {
                "max_connections": 30,
                "shared_buffers": "64MB",
                "effective_cache_size": "128MB",
                "work_mem": "4MB",
                "maintenance_work_mem": "32MB",
            },
        ),
        # Small profile on a bigger host still stays small.
        (
            8192,
            "small",
            20,
            {
                "max_connections": 20,
                "shared_buffers": "64MB",
                "effective_cache_size": "2048MB",
                "work_mem": "4MB",
                "maintenance_work_mem": "32MB",
            },
        ),
        # Memory given as a string (from a fact or extra var) is accepted.
        (
            "1024",
            "auto",
            "50",
            {
                "max_connections": 50,
                "shared_buffers": "256MB",
                "effective_cache_size": "768MB",
                "work_mem": "5MB",
                "maintenance_work_mem": "64MB",
            },
        ),
    ],
)
def test_settings_for_memory(memory_mb, profile, max_connections, expected):
    assert pg_tuning(memory_mb, profile=profile, max_connections=max_connections) == expected


def test_small_profile_fits_the_small_host_budget():
    settings = pg_tuning(512, profile="small")
    shared_mb = int(settings["shared_buffers"].removesuffix("MB"))
    work_mb = int(settings["work_mem"].removesuffix("MB"))
    # Shared buffers plus a full house of connections each at one work_mem: within ~200 MB.
    assert shared_mb + settings["max_connections"] * work_mb <= 200


@pytest.mark.parametrize(
    ("memory_mb", "profile", "max_connections", "message"),
    [
        (128, "auto", None, "below the 256 MiB"),
        (0, "auto", None, "must be positive"),
        ("lots", "auto", None, "memory in MiB must be an integer"),
        (1024, "huge", None, "profile must be one of auto, small"),
        (1024, "auto", -5, "max_connections must be positive"),
    ],
)
def test_bad_input_is_refused_with_the_reason(memory_mb, profile, max_connections, message):
    with pytest.raises(AnsibleFilterError, match=message):
        pg_tuning(memory_mb, profile=profile, max_connections=max_connections)


def test_filter_is_registered_under_its_documented_name():
    assert FilterModule().filters()["pg_tuning"] is pg_tuning
