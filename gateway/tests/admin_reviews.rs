//! `GET /api/v1/admin/reviews` over real HTTP (issue 25): staff list every product's
//! reviews, the hidden ones too, newest first, paged, filtered by status and product, each
//! with its product's name and the reason of its last moderation; nobody else lists them,
//! and a filter that is not one is refused.

mod common;

use common::marketplace::Shop;
use common::{with_shop, Reply};
use serde_json::{json, Value};

/// Staff ship and deliver `order`.
async fn deliver(shop: &Shop, order: &str) {
    for status in ["shipped", "delivered"] {
        let r = shop
            .call(
                "PUT",
                &format!("/orders/{order}/status"),
                &shop.admin,
                Some(json!({ "status": status, "tracking_number": "T-1" })),
            )
            .await;
        assert_eq!(r.status, 200, "{status}: {}", r.body);
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn staff_list_every_review_by_status_and_product_a_page_at_a_time() {
    with_shop(&[], |base, _| async move {
        let shop = Shop::open(base).await;
        let ((_, vera, lamp), (_, _, mug)) = shop.vera_and_otto().await;
        let ann = shop.customer("ann@example.com").await;
        let dana = shop.customer("dana@example.com").await;
        for (who, product) in [(&ann, &lamp), (&ann, &mug), (&dana, &lamp)] {
            let order = shop.buy(who, &[(product.as_str(), 1)]).await;
            deliver(&shop, &order).await;
        }
        let write = |who: &String, product: &String, rating: u8, title: &str| {
            let (who, path) = (who.clone(), format!("/products/{product}/reviews"));
            let body = json!({ "rating": rating, "title": title, "body": format!("{title}, in a few words.") });
            let shop = &shop;
            async move {
                let r = shop.call("POST", &path, &who, Some(body)).await;
                assert_eq!(r.status, 201, "{}", r.body);
                r
            }
        };
        let ann_lamp = write(&ann, &lamp, 5, "Lovely lamp").await;
        let dana_lamp = write(&dana, &lamp, 2, "Flickers").await;
        let ann_mug = write(&ann, &mug, 4, "Good mug").await;
        let id = |r: &Reply| r.body["id"].as_str().unwrap().to_owned();

        // Only staff list them.
        for who in [&ann, &vera] {
            let r = shop.call("GET", "/admin/reviews", who, None).await;
            assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (403, Some("forbidden")), "{}", r.body);
        }
        let r = shop.call("GET", "/admin/reviews", "", None).await;
        assert_eq!(r.status, 401, "{}", r.body);

        // A filter that is not one is refused, naming it.
        for (query, field) in [("status=pending", "status"), ("product_id=lamp", "product_id")] {
            let r = shop.call("GET", &format!("/admin/reviews?{query}"), &shop.admin, None).await;
            assert_eq!(r.status, 400, "{query}: {}", r.body);
            assert_eq!(r.body["errors"][0]["field"], field, "{}", r.body);
        }
        let r = shop.call("GET", "/admin/reviews?limit=0", &shop.admin, None).await;
        assert_eq!(r.status, 422, "{}", r.body);
        let r = shop.call("GET", "/admin/reviews?sort=rating", &shop.admin, None).await;
        assert_eq!(r.status, 400, "{}", r.body);

        // Every review, newest first, with its product's name.
        let all = shop.read("/admin/reviews", &shop.admin, &ann_mug).await;
        assert_eq!(all.status, 200, "{}", all.body);
        assert_eq!(all.body["total"], 3, "{}", all.body);
        assert_eq!(ids(&all.body), [id(&ann_mug), id(&dana_lamp), id(&ann_lamp)]);
        assert_eq!(all.body["items"][0]["product_name"], "OTTO-MUG", "{}", all.body);
        assert_eq!(all.body["items"][1]["product_name"], "VERA-LAMP", "{}", all.body);
        assert_eq!(all.body["items"][1]["rating"], 2);
        assert_eq!(all.body["items"][1]["status"], "published");
        assert!(all.body["items"][1]["moderation_reason"].is_null(), "{}", all.body);

        // A page at a time: two, then the last one.
        let first = shop.read("/admin/reviews?limit=2", &shop.admin, &ann_mug).await;
        let second = shop.read("/admin/reviews?limit=2&offset=2", &shop.admin, &ann_mug).await;
        assert_eq!((first.body["total"].as_i64(), first.body["limit"].as_i64()), (Some(3), Some(2)));
        assert_eq!(ids(&first.body), [id(&ann_mug), id(&dana_lamp)]);
        assert_eq!(ids(&second.body), [id(&ann_lamp)]);
        assert_eq!(second.body["offset"], 2);

        // One product's.
        let r = shop.read(&format!("/admin/reviews?product_id={lamp}"), &shop.admin, &ann_mug).await;
        assert_eq!(ids(&r.body), [id(&dana_lamp), id(&ann_lamp)], "{}", r.body);

        // Hidden, it leaves the storefront's list and stays in the staff's, with its reason.
        let hidden = shop
            .call("PUT", &format!("/reviews/{}/status", id(&dana_lamp)), &shop.admin, Some(json!({ "status": "hidden", "reason": "Off topic" })))
            .await;
        assert_eq!(hidden.status, 200, "{}", hidden.body);
        let r = shop.read("/admin/reviews?status=hidden", &shop.admin, &hidden).await;
        assert_eq!(ids(&r.body), [id(&dana_lamp)], "{}", r.body);
        assert_eq!(r.body["items"][0]["moderation_reason"], "Off topic", "{}", r.body);
        assert_eq!(r.body["items"][0]["status"], "hidden");
        let r = shop.read(&format!("/admin/reviews?status=published&product_id={lamp}"), &shop.admin, &hidden).await;
        assert_eq!(ids(&r.body), [id(&ann_lamp)], "{}", r.body);
        let r = shop.read("/admin/reviews?status=all&product_id=", &shop.admin, &hidden).await;
        assert_eq!(r.body["total"], 3, "a blank filter is none: {}", r.body);
        let public = shop.read(&format!("/products/{lamp}/reviews"), &ann, &hidden).await;
        assert_eq!(ids(&public.body), [id(&ann_lamp)], "{}", public.body);
    })
    .await;
}
