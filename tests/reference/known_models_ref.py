"""Reference side of the known-models test: LLaMA-Factory's model table as its Web UI uses it
(extras/constants.py: SUPPORTED_MODELS filled by register_model_group, DEFAULT_TEMPLATE, which
webui/common.py get_template reads with "default" for a name it lacks) and its template names
(data/template.py TEMPLATES).

  known_models_ref.py write DIR

DIR/models.json: {"models": {name: {"hub_id": DownloadSource.DEFAULT's folder,
"template": get_template(name), "has_template": name in DEFAULT_TEMPLATE}},
"templates": [every registered template name]}."""
import json
import os
import sys

import llamafactory_env  # noqa: E402,F401  (before any LLaMA-Factory import)

from llamafactory.data.template import TEMPLATES  # noqa: E402
from llamafactory.extras.constants import (DEFAULT_TEMPLATE, SUPPORTED_MODELS,  # noqa: E402
                                           DownloadSource)


def write(out):
    models = {}
    for name, sources in SUPPORTED_MODELS.items():
        models[name] = {
            "hub_id": sources.get(DownloadSource.DEFAULT, ""),
            "template": DEFAULT_TEMPLATE.get(name, "default"),
            "has_template": name in DEFAULT_TEMPLATE,
        }
    with open(os.path.join(out, "models.json"), "w", encoding="utf-8") as f:
        json.dump({"models": models, "templates": sorted(TEMPLATES.keys())}, f)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "write":
        sys.exit("usage: known_models_ref.py write DIR")
    write(sys.argv[2])
