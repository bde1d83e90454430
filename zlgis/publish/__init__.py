"""Published outputs: maps, figures, Excel, summary pages (see DEVELOPERS.md).

Importing the package turns on the on-disk cache of compiled Jinja templates
(:mod:`zlgis.publish.template_cache`) before folium compiles its templates.
"""

from .template_cache import enable

enable()
