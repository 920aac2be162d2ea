//! The demo shop: fifteen categories in two levels and three hundred and twenty-six
//! products, each with its description, price, attributes, image, sizes (clothing and
//! shoes) and stock, the same on every call. Every id is derived from [`NAMESPACE`] and
//! the item's name. Among them, "PC Parts" (issue 24): parts of every slot of the PC
//! builder, with the attributes its rules read, enough to build machines that work and
//! machines that do not (a socket that differs, a PSU too small, a GPU too long).

use domain::money::{Currency, Money};
use domain::value::Slug;
use serde_json::{json, Map, Value};
use uuid::Uuid;

/// The namespace of every demo id: `uuidv5(NAMESPACE, "<kind>:<name>")`.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x7c1e_52a4_0d3b_5f0e_9a61_4b8e_2d7f_c0de);

/// The demo id of the item `name` of `kind`: `uuidv5(NAMESPACE, "<kind>:<name>")`.
pub fn id(kind: &str, name: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, format!("{kind}:{name}").as_bytes())
}

#[derive(Debug, Clone)]
pub struct DemoCategory {
    pub id: Uuid,
    pub name: &'static str,
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone)]
pub struct DemoVariant {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub size: &'static str,
    pub stock: u32,
}

#[derive(Debug, Clone)]
pub struct DemoProduct {
    pub id: Uuid,
    pub sku: String,
    pub name: String,
    pub description: String,
    pub category_id: Uuid,
    pub price: Money,
    pub attributes: Map<String, Value>,
    pub image_url: String,
    pub variants: Vec<DemoVariant>,
    /// Received for the product's own SKU, in the default warehouse.
    pub stock: u32,
    pub low_stock_threshold: Option<u32>,
}

/// The whole demo catalog, the same on every call.
#[derive(Debug, Clone)]
pub struct DemoCatalog {
    pub categories: Vec<DemoCategory>,
    pub products: Vec<DemoProduct>,
}

/// A second-level category and what its products are made of: each product is one of
/// five styles of one of six items (so thirty per category), with a price scaled by style.
struct Leaf {
    root: &'static str,
    name: &'static str,
    code: &'static str,
    brands: [&'static str; 3],
    materials: [&'static str; 3],
    styles: [&'static str; 5],
    /// The item and its base price in cents.
    items: [(&'static str, i64); 6],
    /// Sizes sold as variants by every other product; empty when there are none.
    sizes: &'static [&'static str],
    blurb: &'static str,
}

const ROOTS: [&str; 4] = [
    "Electronics",
    "Home & Kitchen",
    "Clothing",
    "Sports & Outdoors",
];

/// Price multipliers (percent) of the five styles, cheapest first.
const STYLE_PERCENT: [i64; 5] = [100, 115, 130, 150, 175];

const COLORS: [&str; 7] = [
    "black",
    "white",
    "navy",
    "graphite",
    "sand",
    "forest green",
    "red",
];

const LEAVES: [Leaf; 10] = [
    Leaf {
        root: "Electronics",
        name: "Headphones",
        code: "HP",
        brands: ["Sonora", "Auralis", "Keystone Audio"],
        materials: ["aluminium", "recycled plastic", "leather"],
        styles: ["Lite", "Travel", "Wireless", "Studio", "Reference"],
        items: [
            ("Over-Ear Headphones", 12_900),
            ("In-Ear Monitors", 7_900),
            ("Noise-Cancelling Headphones", 24_900),
            ("Sport Earbuds", 5_900),
            ("Headset with Microphone", 6_900),
            ("Bone-Conduction Headphones", 9_900),
        ],
        sizes: &[],
        blurb: "Balanced sound, soft cushions and a battery that lasts a working week.",
    },
    Leaf {
        root: "Electronics",
        name: "Smart Home",
        code: "SH",
        brands: ["Hearth", "Lumio", "Nestwise"],
        materials: ["matte plastic", "brushed steel", "glass"],
        styles: ["Mini", "Eco", "Classic", "Plus", "Max"],
        items: [
            ("Smart Plug", 1_900),
            ("Thermostat", 14_900),
            ("Video Doorbell", 9_900),
            ("Smart Speaker", 4_900),
            ("Motion Sensor", 2_900),
            ("Security Camera", 7_900),
        ],
        sizes: &[],
        blurb: "Sets up in minutes from the app and works with the major voice assistants.",
    },
    Leaf {
        root: "Electronics",
        name: "Phone Accessories",
        code: "PA",
        brands: ["Volta", "Gripster", "Cablecraft"],
        materials: ["silicone", "braided nylon", "vegan leather"],
        styles: ["Compact", "Slim", "Duo", "Fast", "Rugged"],
        items: [
            ("Phone Case", 2_500),
            ("USB-C Cable", 1_500),
            ("Wireless Charger", 3_900),
            ("Power Bank", 4_900),
            ("Car Mount", 2_900),
            ("Screen Protector", 1_200),
        ],
        sizes: &[],
        blurb: "Made to keep up with the phone in your pocket, day after day.",
    },
    Leaf {
        root: "Home & Kitchen",
        name: "Cookware",
        code: "CW",
        brands: ["Ferrum", "Casa Nova", "Old Mill"],
        materials: ["cast iron", "stainless steel", "carbon steel"],
        styles: ["Everyday", "Classic", "Heritage", "Chef's", "Professional"],
        items: [
            ("Skillet", 4_900),
            ("Dutch Oven", 11_900),
            ("Saucepan", 5_900),
            ("Wok", 6_900),
            ("Stockpot", 8_900),
            ("Grill Pan", 5_500),
        ],
        sizes: &[],
        blurb: "Even heat from edge to edge, oven-safe and built to last for decades.",
    },
    Leaf {
        root: "Home & Kitchen",
        name: "Lighting",
        code: "LT",
        brands: ["Lumen & Co", "Nordlys", "Brightside"],
        materials: ["oak", "brass", "linen"],
        styles: ["Nordic", "Globe", "Arc", "Halo", "Atelier"],
        items: [
            ("Floor Lamp", 12_900),
            ("Desk Lamp", 5_900),
            ("Pendant Light", 8_900),
            ("Wall Sconce", 6_900),
            ("Table Lamp", 4_900),
            ("LED Strip", 2_900),
        ],
        sizes: &[],
        blurb: "Warm, dimmable light that makes a room feel finished.",
    },
    Leaf {
        root: "Home & Kitchen",
        name: "Coffee & Tea",
        code: "CT",
        brands: ["Roastery Row", "Kettle & Leaf", "Bean There"],
        materials: ["glass", "ceramic", "stainless steel"],
        styles: ["House", "Morning", "Slow", "Barista", "Master"],
        items: [
            ("Pour-Over Kit", 3_900),
            ("French Press", 2_900),
            ("Burr Grinder", 8_900),
            ("Gooseneck Kettle", 5_900),
            ("Espresso Cups", 2_400),
            ("Tea Infuser", 1_500),
        ],
        sizes: &[],
        blurb: "Everything you need for a better cup at home.",
    },
    Leaf {
        root: "Clothing",
        name: "Jackets",
        code: "JK",
        brands: ["Northbound", "Fjellstad", "Urban Trail"],
        materials: ["recycled polyester", "wool blend", "waxed cotton"],
        styles: ["City", "Field", "Harbour", "Storm", "Alpine"],
        items: [
            ("Rain Jacket", 12_900),
            ("Down Jacket", 19_900),
            ("Fleece Jacket", 6_900),
            ("Softshell Jacket", 9_900),
            ("Parka", 22_900),
            ("Windbreaker", 7_900),
        ],
        sizes: &["S", "M", "L", "XL"],
        blurb: "Cut for layering, with taped seams and pockets where your hands expect them.",
    },
    Leaf {
        root: "Clothing",
        name: "T-Shirts",
        code: "TS",
        brands: ["Plainwear", "Cotton Club", "Basix"],
        materials: ["organic cotton", "cotton-linen blend", "merino"],
        styles: ["Essential", "Pocket", "Vintage", "Slim-Fit", "Heavyweight"],
        items: [
            ("Crew-Neck Tee", 1_900),
            ("V-Neck Tee", 1_900),
            ("Long-Sleeve Tee", 2_900),
            ("Henley", 3_400),
            ("Graphic Tee", 2_400),
            ("Polo Shirt", 3_900),
        ],
        sizes: &["XS", "S", "M", "L", "XL"],
        blurb: "Soft from the first wear, pre-shrunk and made to keep its shape.",
    },
    Leaf {
        root: "Sports & Outdoors",
        name: "Running Shoes",
        code: "RS",
        brands: ["Stride", "Velox", "Trailhead"],
        materials: ["engineered mesh", "knit", "recycled mesh"],
        styles: ["Daily", "Tempo", "Cloud", "Swift", "Summit"],
        items: [
            ("Road Running Shoe", 11_900),
            ("Trail Running Shoe", 12_900),
            ("Racing Flat", 14_900),
            ("Stability Shoe", 12_400),
            ("Cushioned Trainer", 10_900),
            ("Track Spike", 8_900),
        ],
        sizes: &["40", "41", "42", "43", "44"],
        blurb: "A responsive midsole and a secure fit for easy miles and race day alike.",
    },
    Leaf {
        root: "Sports & Outdoors",
        name: "Camping",
        code: "CP",
        brands: ["Basecamp", "Ridgeline", "Wildfern"],
        materials: ["ripstop nylon", "aluminium", "polyester"],
        styles: ["Weekend", "Family", "Trek", "Ultralight", "Expedition"],
        items: [
            ("Tent", 19_900),
            ("Sleeping Bag", 8_900),
            ("Camping Stove", 5_900),
            ("Headlamp", 2_900),
            ("Hiking Backpack", 11_900),
            ("Camp Chair", 4_900),
        ],
        sizes: &[],
        blurb: "Packs small, sets up fast and shrugs off a night of rain.",
    },
];

impl Default for DemoCatalog {
    fn default() -> Self {
        Self::new()
    }
}

impl DemoCatalog {
    pub fn new() -> Self {
        let mut categories: Vec<DemoCategory> = ROOTS
            .iter()
            .map(|&name| DemoCategory {
                id: id("category", name),
                name,
                parent_id: None,
            })
            .collect();
        categories.extend(LEAVES.iter().map(|leaf| DemoCategory {
            id: id("category", leaf.name),
            name: leaf.name,
            parent_id: Some(id("category", leaf.root)),
        }));

        let mut products = Vec::new();
        // Counts every SKU in order, so stock levels vary without a random generator.
        let mut sku_number: u32 = 0;
        let mut stock_of = || {
            sku_number += 1;
            10 + (sku_number * 37) % 141
        };
        for leaf in &LEAVES {
            for i in 0..30 {
                let n = products.len();
                let (style, percent) = (leaf.styles[i / 6], STYLE_PERCENT[i / 6]);
                let (item, base) = leaf.items[i % 6];
                let name = format!("{style} {item}");
                let sku = format!("DEMO-{}-{:03}", leaf.code, i + 1);
                let (brand, material) = (leaf.brands[i % 3], leaf.materials[(i / 2) % 3]);
                let color = COLORS[n % COLORS.len()];
                // Whole currency units less a cent: 49.99, not 49.37.
                let amount = base * percent / 100 / 100 * 100 - 1;
                let sizes: &[&str] = if i % 2 == 0 { leaf.sizes } else { &[] };
                let variants = sizes
                    .iter()
                    .map(|&size| {
                        let variant_name = format!("{name}, size {size}");
                        DemoVariant {
                            id: id("variant", &variant_name),
                            sku: format!("{sku}-{size}"),
                            name: variant_name,
                            size,
                            stock: stock_of(),
                        }
                    })
                    .collect();
                // One in twelve runs low (3 left, alert below 5); another one in twelve
                // has a threshold it stays above.
                let (stock, low_stock_threshold) = match n % 12 {
                    5 => (3, Some(5)),
                    0 => (stock_of().max(20), Some(10)),
                    _ => (stock_of(), None),
                };
                let mut attributes = Map::new();
                attributes.insert("brand".into(), json!(brand));
                attributes.insert("color".into(), json!(color));
                attributes.insert("material".into(), json!(material));
                if !sizes.is_empty() {
                    attributes.insert("sizes".into(), json!(sizes));
                }
                let slug =
                    Slug::from_name(&name).map_or_else(|_| sku.to_lowercase(), |s| s.to_string());
                products.push(DemoProduct {
                    id: id("product", &name),
                    description: format!(
                        "{name} by {brand}, in {color} {material}. {}",
                        leaf.blurb
                    ),
                    category_id: id("category", leaf.name),
                    price: Money::new(amount, Currency::USD),
                    attributes,
                    image_url: format!("https://picsum.photos/seed/{slug}/800/800"),
                    variants,
                    stock,
                    low_stock_threshold,
                    sku,
                    name,
                });
            }
        }
        let pc_parts = id("category", PC_PARTS);
        categories.push(DemoCategory {
            id: pc_parts,
            name: PC_PARTS,
            parent_id: Some(id("category", "Electronics")),
        });
        for (n, (name, price, blurb, facts)) in pc_parts_list().into_iter().enumerate() {
            let Value::Object(attributes) = facts else {
                continue;
            };
            let slot = attributes
                .get("pc_slot")
                .and_then(Value::as_str)
                .unwrap_or("part")
                .to_uppercase();
            let sku = format!("DEMO-PC-{slot}-{:02}", n + 1);
            let slug = Slug::from_name(name).map_or_else(|_| sku.to_lowercase(), |s| s.to_string());
            products.push(DemoProduct {
                id: id("product", name),
                sku,
                name: name.to_owned(),
                description: format!("{name}. {blurb}"),
                category_id: pc_parts,
                // Whole currency units less a cent.
                price: Money::new(price * 100 - 1, Currency::USD),
                attributes,
                image_url: format!("https://picsum.photos/seed/{slug}/800/800"),
                variants: Vec::new(),
                stock: 12 + (n as u32 * 7) % 30,
                low_stock_threshold: None,
            });
        }
        DemoCatalog {
            categories,
            products,
        }
    }

    /// Every SKU: one per product and one per variant.
    pub fn skus(&self) -> usize {
        self.products.iter().map(|p| 1 + p.variants.len()).sum()
    }
}

/// The PC builder's category, under Electronics.
pub const PC_PARTS: &str = "PC Parts";

/// The demo's PC parts: name, price in whole dollars, a sentence, and the attributes the
/// PC builder's rules read (docs/api.md § PC builder), `pc_slot` first. Chosen so that the
/// X7 on the B650 board, DDR5-6000, the 4070, an NVMe drive, the 750 W supply, the mid
/// tower and the tower cooler make a machine that works, and each swap makes one that
/// does not: an LGA1700 CPU (socket), DDR4 (memory type), the X9 with the 4090 on 750 W
/// (power with 30% headroom), the 4090 in the micro tower (GPU length), the tower cooler
/// in the mini-ITX case (cooler height), an ATX board in the micro tower (form factor).
fn pc_parts_list() -> Vec<(&'static str, i64, &'static str, Value)> {
    let cpu = "Unlocked, with integrated graphics and a boost clock for games and builds alike.";
    let board = "Reinforced PCIe slot, heatsinks over the VRMs and the power stages, and Wi-Fi.";
    let memory = "Two matched modules with heat spreaders, tuned for their rated speed.";
    let gpu = "Dual-fan cooling that stops at idle, three DisplayPorts and one HDMI.";
    let storage = "Fast to boot and quiet in use, with a five-year warranty.";
    let psu = "80 Plus Gold, fully modular cables and a fan that idles silent.";
    let case = "Tempered-glass side, a dust filter on every intake, room for the cables.";
    let cooler = "Quiet under load, with the mounting kit and thermal paste in the box.";
    vec![
        (
            "Corelis X7 AM5 Processor",
            299,
            cpu,
            json!({"pc_slot": "cpu", "brand": "Corelis", "socket": "AM5", "tdp_w": 105}),
        ),
        (
            "Corelis X9 AM5 Processor",
            549,
            cpu,
            json!({"pc_slot": "cpu", "brand": "Corelis", "socket": "AM5", "tdp_w": 170}),
        ),
        (
            "Intrex i5 LGA1700 Processor",
            229,
            cpu,
            json!({"pc_slot": "cpu", "brand": "Intrex", "socket": "LGA1700", "tdp_w": 125}),
        ),
        (
            "Intrex i9 LGA1700 Processor",
            579,
            cpu,
            json!({"pc_slot": "cpu", "brand": "Intrex", "socket": "LGA1700", "tdp_w": 253}),
        ),
        (
            "Basewave B650 ATX Motherboard",
            199,
            board,
            json!({"pc_slot": "motherboard", "brand": "Basewave", "socket": "AM5", "memory_type": "DDR5", "max_memory_speed_mhz": 6000, "form_factor": "ATX", "m2_slots": 2, "sata_ports": 4}),
        ),
        (
            "Basewave B650M mATX Motherboard",
            159,
            board,
            json!({"pc_slot": "motherboard", "brand": "Basewave", "socket": "AM5", "memory_type": "DDR5", "max_memory_speed_mhz": 5600, "form_factor": "mATX", "m2_slots": 1, "sata_ports": 4}),
        ),
        (
            "Basewave Z790 ATX Motherboard",
            289,
            board,
            json!({"pc_slot": "motherboard", "brand": "Basewave", "socket": "LGA1700", "memory_type": "DDR5", "max_memory_speed_mhz": 7200, "form_factor": "ATX", "m2_slots": 3, "sata_ports": 6}),
        ),
        (
            "Basewave B760I ITX Motherboard",
            179,
            board,
            json!({"pc_slot": "motherboard", "brand": "Basewave", "socket": "LGA1700", "memory_type": "DDR4", "max_memory_speed_mhz": 3600, "form_factor": "ITX", "m2_slots": 1, "sata_ports": 2}),
        ),
        (
            "Memora DDR5-6000 16 GB Module",
            59,
            memory,
            json!({"pc_slot": "memory", "brand": "Memora", "memory_type": "DDR5", "speed_mhz": 6000}),
        ),
        (
            "Memora DDR5-5600 16 GB Module",
            49,
            memory,
            json!({"pc_slot": "memory", "brand": "Memora", "memory_type": "DDR5", "speed_mhz": 5600}),
        ),
        (
            "Memora DDR4-3600 16 GB Module",
            39,
            memory,
            json!({"pc_slot": "memory", "brand": "Memora", "memory_type": "DDR4", "speed_mhz": 3600}),
        ),
        (
            "Pixelforge 4060 Compact Graphics Card",
            299,
            gpu,
            json!({"pc_slot": "gpu", "brand": "Pixelforge", "length_mm": 200, "power_w": 115}),
        ),
        (
            "Pixelforge 4070 Graphics Card",
            599,
            gpu,
            json!({"pc_slot": "gpu", "brand": "Pixelforge", "length_mm": 305, "power_w": 200}),
        ),
        (
            "Pixelforge 4090 Graphics Card",
            1599,
            gpu,
            json!({"pc_slot": "gpu", "brand": "Pixelforge", "length_mm": 357, "power_w": 450}),
        ),
        (
            "Datacore NVMe SSD 1 TB",
            79,
            storage,
            json!({"pc_slot": "storage", "brand": "Datacore", "interface": "m2"}),
        ),
        (
            "Datacore NVMe SSD 2 TB",
            139,
            storage,
            json!({"pc_slot": "storage", "brand": "Datacore", "interface": "m2"}),
        ),
        (
            "Datacore SATA SSD 1 TB",
            69,
            storage,
            json!({"pc_slot": "storage", "brand": "Datacore", "interface": "sata"}),
        ),
        (
            "Datacore SATA HDD 4 TB",
            89,
            storage,
            json!({"pc_slot": "storage", "brand": "Datacore", "interface": "sata"}),
        ),
        (
            "Voltwave 450 W Power Supply",
            59,
            psu,
            json!({"pc_slot": "psu", "brand": "Voltwave", "wattage_w": 450}),
        ),
        (
            "Voltwave 750 W Power Supply",
            109,
            psu,
            json!({"pc_slot": "psu", "brand": "Voltwave", "wattage_w": 750}),
        ),
        (
            "Voltwave 1000 W Power Supply",
            179,
            psu,
            json!({"pc_slot": "psu", "brand": "Voltwave", "wattage_w": 1000}),
        ),
        (
            "Shellworks Mid Tower Case",
            99,
            case,
            json!({"pc_slot": "case", "brand": "Shellworks", "form_factors": ["ATX", "mATX", "ITX"], "max_gpu_length_mm": 360, "max_cooler_height_mm": 170}),
        ),
        (
            "Shellworks Micro Tower Case",
            79,
            case,
            json!({"pc_slot": "case", "brand": "Shellworks", "form_factors": ["mATX", "ITX"], "max_gpu_length_mm": 320, "max_cooler_height_mm": 160}),
        ),
        (
            "Shellworks Mini ITX Case",
            89,
            case,
            json!({"pc_slot": "case", "brand": "Shellworks", "form_factors": ["ITX"], "max_gpu_length_mm": 210, "max_cooler_height_mm": 70}),
        ),
        (
            "Frostline Tower Air Cooler",
            49,
            cooler,
            json!({"pc_slot": "cooler", "brand": "Frostline", "sockets": ["AM4", "AM5", "LGA1700"], "height_mm": 158}),
        ),
        (
            "Frostline Low-Profile Cooler",
            39,
            cooler,
            json!({"pc_slot": "cooler", "brand": "Frostline", "sockets": ["AM5", "LGA1700"], "height_mm": 47}),
        ),
    ]
}
