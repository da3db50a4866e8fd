"""The events the core records, with `data` shaped as the API shows a Video or a Subscription."""

from __future__ import annotations

from datetime import datetime

from vidplat.domain.billing.model import Subscription
from vidplat.domain.ids import new_id
from vidplat.domain.videos.model import Video
from vidplat.domain.webhooks.model import EventType, WebhookEvent


def video_event(event_type: EventType, video: Video, at: datetime) -> WebhookEvent:
    """video.ready or video.failed; `data` has the fields of GET /api/v1/videos/{id}."""
    data = {
        "id": video.id,
        "title": video.title,
        "description": video.description,
        "status": video.status.value,
        "failure_reason": video.failure_reason,
        "duration_seconds": video.duration_seconds,
        "width": video.width,
        "height": video.height,
        "size_bytes": video.size_bytes,
        "content_type": video.content_type,
        "uploaded_by": video.uploaded_by,
        "created_at": video.created_at,
        "updated_at": video.updated_at,
        "deleted_at": video.deleted_at,
        "replacement_pending": video.replacement_pending,
        "progress": video.progress,
        "renditions": [
            {"name": r.name, "width": r.width, "height": r.height, "bandwidth": r.bandwidth} for r in video.renditions
        ],
    }
    return WebhookEvent(id=new_id(), organization_id=video.organization_id, type=event_type, occurred_at=at, data=data)


def subscription_event(event_type: EventType, subscription: Subscription, at: datetime) -> WebhookEvent:
    """subscription.activated or subscription.expired; `data` has the fields of a subscription in the API."""
    plan = subscription.plan
    data = {
        "id": subscription.id,
        "plan": {
            "code": plan.code.value,
            "name": plan.name,
            "price": plan.price,
            "duration_days": plan.duration_days,
            "can_restore_videos": plan.can_restore_videos,
            "max_storage_bytes": plan.max_storage_bytes,
            "max_users": plan.max_users,
        },
        "started_at": subscription.started_at,
        "ends_at": subscription.ends_at,
        "active": subscription.is_active(at),
    }
    return WebhookEvent(
        id=new_id(), organization_id=subscription.organization_id, type=event_type, occurred_at=at, data=data
    )
