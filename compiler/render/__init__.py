"""What every renderer shares: encoders (`encode`), the one Jinja environment (`templating`)
and the fixed scripts generated files embed (`gate`). Renderers live with their target, under
`compiler/targets/<name>/`."""
