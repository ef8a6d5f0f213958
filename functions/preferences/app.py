"""preferences: ``GET/PUT /me/preferences`` and ``POST /me/devices`` (the caller's notification settings)."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router

from orders.adapters.channels import PushRegistry
from orders.adapters.clients import sns_client
from orders.cache import per_environment
from orders.http import CurrentCaller, build_resolver, lambda_entry
from orders.logic import preferences
from orders.models.notification_api import DeviceOut, DeviceRequest, PreferencesOut, PreferencesRequest

router = Router()


@per_environment
def push_registry() -> PushRegistry:
    """The push registry this function hands the logic (its one adapter, wired here)."""
    return PushRegistry(sns_client())


@router.get("/me/preferences", summary="My notification preferences", tags=["notifications"])
def get_preferences(caller: CurrentCaller) -> PreferencesOut:
    return PreferencesOut.of(preferences.get_preferences(caller.user_id))


@router.put("/me/preferences", summary="Set my notification channels, locale and addresses", tags=["notifications"])
def put_preferences(body: PreferencesRequest, caller: CurrentCaller) -> PreferencesOut:
    return PreferencesOut.of(preferences.put_preferences(caller.user_id, body))


@router.post("/me/devices", summary="Register a phone for push notifications", tags=["notifications"])
def register_device(body: DeviceRequest, caller: CurrentCaller) -> Response[DeviceOut]:
    device = preferences.register_device(caller.user_id, body, registry=push_registry())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=DeviceOut.of(device))


app = build_resolver(router)
lambda_handler = lambda_entry(app)
