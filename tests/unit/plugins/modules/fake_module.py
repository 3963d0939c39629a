"""The one fake AnsibleModule of the modules' unit tests: what the modules use of it, nothing more."""

import subprocess


class Failed(Exception):
    """fail_json's exit; the module's result is on ``result``."""

    def __init__(self, result):
        super().__init__(result["msg"])
        self.result = result


def spec_defaults(spec):
    """The values AnsibleModule gives options the task does not set, suboptions included."""
    return {
        name: spec_defaults(option["options"])
        if option.get("type") == "dict" and "options" in option
        else option.get("default")
        for name, option in spec.items()
    }


class FakeModule:
    """``params`` are the argument spec's defaults with the test's on top. ``run_command`` behaves as
    ``run_command(handle_exceptions=False)``: it runs the program unless ``answers`` scripts it by name (a list of
    (rc, out, err) answered in order, the last one repeating; None: not installed, so it raises), and records each
    argv in ``commands`` and its keyword arguments in ``command_options``."""

    def __init__(self, argument_spec, params, check_mode=False):
        self.params = {**spec_defaults(argument_spec), **params}
        self.check_mode = check_mode
        self.commands, self.command_options, self.answers = [], [], {}
        self.warnings, self.no_log_values = [], set()

    def run_command(self, argv, handle_exceptions=True, **options):
        assert handle_exceptions is False, "a missing program must fail with the module's message, not end the module"
        self.commands.append(list(argv))
        self.command_options.append(options)
        if argv[0] in self.answers:
            script = self.answers[argv[0]]
            if script is None:
                raise FileNotFoundError(2, "No such file or directory", argv[0])
            return script.pop(0) if len(script) > 1 else script[0]
        completed = subprocess.run(argv, capture_output=True, text=True, check=False)
        return completed.returncode, completed.stdout, completed.stderr

    def warn(self, message):
        self.warnings.append(message)

    def fail_json(self, **result):
        raise Failed(result)
