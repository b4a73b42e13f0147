"""Viewing a report: the Streamlit server, its options, the static viewer and the widgets.

Call graph::

    api.view / pixel-patrol view
      ├─ options.ViewOptions            every option checked against the report
      └─ serve.run_viewer               Streamlit child process running viewer/app.py
    api.build_viewer / pixel-patrol build-viewer
      └─ static.build_viewer            one offline HTML file, or a site folder
    widgets                             declarations (JSON), SQL compiler, DuckDB queries,
                                        shared by both runtimes
"""
