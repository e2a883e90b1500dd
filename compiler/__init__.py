"""mlops-compiler: one mlops.yaml compiled to GitHub Actions, Airflow and Kubernetes/Argo files."""

__version__ = "0.1.0"
