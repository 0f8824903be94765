"""URLs of the training pages of a use case (mounted under /registry/ in the `automations` namespace)."""
from django.urls import path

from automations.training import views as training

urlpatterns = [
    path("<slug:key>/training/", training.TrainingView.as_view(), name="training"),
    path("<slug:key>/training/upload/", training.ExamplesUploadView.as_view(), name="training-upload"),
    path("<slug:key>/training/start/", training.TrainingStartView.as_view(), name="training-start"),
    path("<slug:key>/training/progress/", training.TrainingProgressView.as_view(), name="training-progress"),
    path("<slug:key>/classifiers/", training.ClassifierVersionListView.as_view(), name="classifier-version-list"),
    path("<slug:key>/classifiers/<int:number>/", training.ClassifierVersionDetailView.as_view(),
         name="classifier-version-detail"),
    path("<slug:key>/classifiers/<int:number>/propose-thresholds/", training.ThresholdProposeView.as_view(),
         name="classifier-version-propose"),
]
